using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pan.Server.Omniauth;

/// <summary>
/// Verifies Google ID tokens (JWTs): RS256 signature by a key of Google's JWKS (<c>Pan:Omniauth:Google:JwksUrl</c>),
/// issuer <c>https://accounts.google.com</c> or <c>accounts.google.com</c>, audience one of
/// <c>Pan:Omniauth:Google:ClientIds</c>, and expiry by Pan's clock. The key set is cached for an hour and fetched
/// again early when a token names a key id it does not hold (Google rotates keys), at most once a minute.
/// </summary>
public sealed class GoogleIdTokens(ProviderHttp http, IOptions<OmniauthOptions> options, TimeProvider clock) : IDisposable
{
    private static readonly string[] Issuers = ["https://accounts.google.com", "accounts.google.com"];
    private static readonly JsonWebTokenHandler Handler = new();

    private readonly SemaphoreSlim fetchLock = new(1, 1);
    private JsonWebKeySet? keys;
    private DateTimeOffset fetched;

    /// <summary>The token's user, or a <see cref="ProviderRejectedException"/> when it does not verify.</summary>
    public async Task<ProviderIdentity> VerifyAsync(string idToken, CancellationToken cancellationToken)
    {
        var audiences = options.Value.Google.ClientIds;
        if (audiences.Count == 0)
        {
            throw new ProviderRejectedException("No Google client id is configured for ID tokens.");
        }

        JsonWebToken jwt;
        try
        {
            jwt = Handler.ReadJsonWebToken(idToken);
        }
        catch (ArgumentException)
        {
            throw new ProviderRejectedException("The Google ID token is not a JWT.");
        }

        var set = await KeysAsync(jwt.Kid, cancellationToken);
        var result = await Handler.ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuers = Issuers,
            ValidAudiences = audiences,
            IssuerSigningKeys = set.GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            // Why: Pan's clock (TimeProvider), not the machine's, decides expiry; 5 minutes of skew as Google advises.
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = clock.GetUtcNow().UtcDateTime;
                var skew = TimeSpan.FromMinutes(5);
                return expires is { } exp && exp + skew > now && (notBefore is not { } nbf || nbf - skew <= now);
            },
        });
        if (!result.IsValid)
        {
            throw new ProviderRejectedException("The Google ID token did not verify.");
        }

        var claims = (JsonWebToken)result.SecurityToken;
        var sub = claims.TryGetPayloadValue<string>("sub", out var s) ? s : null;
        if (string.IsNullOrEmpty(sub))
        {
            throw new ProviderRejectedException("The Google ID token has no subject.");
        }

        var email = claims.TryGetPayloadValue<string>("email", out var e) ? e : null;
        var verified = claims.TryGetPayloadValue<bool>("email_verified", out var v) ? v
            : claims.TryGetPayloadValue<string>("email_verified", out var vs) && string.Equals(vs, "true", StringComparison.OrdinalIgnoreCase);
        var name = claims.TryGetPayloadValue<string>("name", out var n) ? n : null;
        return new ProviderIdentity(SocialProviders.Google, sub, email, verified, name);
    }

    public void Dispose() => fetchLock.Dispose();

    private async Task<JsonWebKeySet> KeysAsync(string? kid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var current = keys;
        var stale = current is null || now - fetched > TimeSpan.FromHours(1);
        var missing = current is not null && kid is not null && current.Keys.All(k => k.Kid != kid) && now - fetched > TimeSpan.FromMinutes(1);
        if (!stale && !missing)
        {
            return current!;
        }

        await fetchLock.WaitAsync(cancellationToken);
        try
        {
            if (keys is not null && !ReferenceEquals(keys, current))
            {
                return keys;
            }

            var text = await http.GetTextAsync(SocialProviders.Google, new HttpRequestMessage(HttpMethod.Get, options.Value.Google.JwksUrl), cancellationToken);
            try
            {
                keys = new JsonWebKeySet(text);
            }
            catch (Exception ex) when (ex is ArgumentException or System.Text.Json.JsonException)
            {
                throw new Errors.DependencyUnavailableException("Google's JWKS is unreadable.", ex);
            }

            fetched = now;
            return keys;
        }
        finally
        {
            fetchLock.Release();
        }
    }
}
