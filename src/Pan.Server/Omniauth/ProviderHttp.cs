using System.Net;
using System.Text.Json;
using Pan.Server.Errors;

namespace Pan.Server.Omniauth;

/// <summary>What a provider vouches for: its stable user id and, when it has them, an email, a name and a picture.</summary>
/// <param name="EmailVerified">True when the provider says the address is the user's (verified by the provider).</param>
public sealed record ProviderIdentity(string Provider, string UserId, string? Email, bool EmailVerified, string? Name);

/// <summary>The provider refused the token (or its answer does not fit the request): the seed's 403 Authorication failed.</summary>
public sealed class ProviderRejectedException(string reason) : Exception(reason);

/// <summary>
/// The HTTP side of the provider checks: one request (a GET, or LinkedIn's introspection POST), JSON back. A 4xx answer is the provider rejecting the token
/// (<see cref="ProviderRejectedException"/>); a connection error, a timeout, a 5xx or an unreadable answer is the
/// provider being unavailable (<see cref="DependencyUnavailableException"/>). Tokens travel in query strings for some
/// providers (their protocol), so the named client's request logging is removed.
/// </summary>
public sealed class ProviderHttp(IHttpClientFactory clients, ILogger<ProviderHttp> logger)
{
    public const string ClientName = "Pan.Omniauth";

    /// <summary>Joins a configured base URL and a path, whether or not the base ends with '/'.</summary>
    public static Uri Join(Uri baseUrl, string pathAndQuery) =>
        new(baseUrl.ToString().TrimEnd('/') + "/" + pathAndQuery.TrimStart('/'));

    public async Task<JsonElement> GetJsonAsync(string provider, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var text = await GetTextAsync(provider, request, cancellationToken);
        try
        {
            using var json = JsonDocument.Parse(text);
            return json.RootElement.ValueKind == JsonValueKind.Object
                ? json.RootElement.Clone()
                : throw new DependencyUnavailableException($"{provider} sent an answer that is not a JSON object.");
        }
        catch (JsonException ex)
        {
            logger.LogWarning("{Provider} sent an unreadable answer", provider);
            throw new DependencyUnavailableException($"{provider} sent an unreadable answer.", ex);
        }
    }

    /// <summary>The body of a 2xx answer as text.</summary>
    public async Task<string> GetTextAsync(string provider, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            var http = clients.CreateClient(ClientName);
            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                if ((int)response.StatusCode is >= 400 and < 500)
                {
                    logger.LogInformation("{Provider} rejected a token with HTTP {Status}", provider, (int)response.StatusCode);
                    throw new ProviderRejectedException($"{provider} answered HTTP {(int)response.StatusCode}.");
                }

                if (response.StatusCode != HttpStatusCode.OK)
                {
                    logger.LogWarning("{Provider} answered HTTP {Status}", provider, (int)response.StatusCode);
                    throw new DependencyUnavailableException($"{provider} answered HTTP {(int)response.StatusCode}.");
                }

                return await response.Content.ReadAsStringAsync(cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                logger.LogWarning(ex, "{Provider} is unreachable", provider);
                throw new DependencyUnavailableException($"{provider} is unreachable.", ex);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("{Provider} did not answer in time", provider);
                throw new DependencyUnavailableException($"{provider} did not answer in time.", ex);
            }
        }
    }

    /// <summary>See <see cref="Network.JsonFields.Text"/>.</summary>
    public static string? Text(JsonElement root, string name) => Network.JsonFields.Text(root, name);

    /// <summary>The provider's user id in <paramref name="name"/>: 1–128 characters, else the provider's answer is refused.</summary>
    public static string UserId(JsonElement root, string name) =>
        Text(root, name) is { Length: > 0 and <= 128 } id ? id : throw new ProviderRejectedException($"The provider's answer has no usable {name}.");

    /// <summary>See <see cref="Network.JsonFields.Flag"/>.</summary>
    public static bool Flag(JsonElement root, string name) => Network.JsonFields.Flag(root, name);
}
