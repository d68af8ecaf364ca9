using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;
using Pan.Server.Network;

namespace Pan.Server.Admin;

/// <summary>What Google's tokeninfo says about an access token that it accepts.</summary>
public sealed record GoogleTokenFacts(string? Email, bool EmailVerified, string? Audience, string? AuthorizedParty, long ExpiresInSeconds);

/// <summary>
/// Asks Google's tokeninfo endpoint (<c>Pan:Admin:Google:TokenInfoUrl</c>, GET <c>?access_token=…</c>) about a Google
/// OAuth access token. Google answers 200 with JSON (email, email_verified, aud, azp, expires_in — numbers and booleans
/// may come as strings) for a live token and 400 for an invalid or expired one. Google unreachable, slow, answering
/// another status or unreadable JSON throws <see cref="DependencyUnavailableException"/> (UNAVAILABLE).
/// </summary>
/// <remarks>The token travels in the query string as Google specifies; this client's request logging is removed so no URL is logged.</remarks>
public sealed class GoogleTokenInfo(HttpClient http, IOptions<AdminOptions> options, ILogger<GoogleTokenInfo> logger)
{
    /// <summary>Null when Google says the token is not (or no longer) valid.</summary>
    public async Task<GoogleTokenFacts?> LookupAsync(string accessToken, CancellationToken cancellationToken)
    {
        var url = options.Value.Google.TokenInfoUrl;
        var builder = new UriBuilder(url) { Query = "access_token=" + Uri.EscapeDataString(accessToken) };
        try
        {
            using var response = await http.GetAsync(builder.Uri, cancellationToken);
            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                logger.LogError("Google tokeninfo answered HTTP {Status}", (int)response.StatusCode);
                throw new DependencyUnavailableException($"Google tokeninfo answered HTTP {(int)response.StatusCode}.");
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new DependencyUnavailableException("Google tokeninfo sent an answer that is not a JSON object.");
            }

            return new GoogleTokenFacts(
                JsonFields.Text(root, "email"),
                JsonFields.Flag(root, "email_verified"),
                JsonFields.Text(root, "aud"),
                JsonFields.Text(root, "azp"),
                long.TryParse(JsonFields.Text(root, "expires_in"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) ? seconds : 0);
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning(ex, "Google tokeninfo is unreachable");
            throw new DependencyUnavailableException("Google tokeninfo is unreachable.", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Google tokeninfo did not answer in time");
            throw new DependencyUnavailableException("Google tokeninfo did not answer in time.", ex);
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Google tokeninfo sent an unreadable answer");
            throw new DependencyUnavailableException("Google tokeninfo sent an unreadable answer.", ex);
        }
    }
}
