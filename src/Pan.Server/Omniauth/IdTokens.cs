using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pan.Server.Omniauth;

/// <summary>
/// The checks every provider's ID token gets: a JWT, RS256 by a key of the provider's JWKS, an accepted issuer, an
/// audience among the configured client ids, and not expired by Pan's clock (5 minutes of skew). What the issuer must
/// be is the provider's (<paramref name="issuerValidator"/>); so are the claims read from the verified token.
/// </summary>
public static class IdTokens
{
    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>The token, verified; a <see cref="ProviderRejectedException"/> naming <paramref name="what"/> when it is not.</summary>
    public static async Task<JsonWebToken> VerifyAsync(
        string token,
        string what,
        JwksKeys keys,
        IReadOnlyCollection<string> audiences,
        IssuerValidator issuerValidator,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (audiences.Count == 0)
        {
            throw new ProviderRejectedException($"No client id is configured for {what}s.");
        }

        JsonWebToken jwt;
        try
        {
            jwt = Handler.ReadJsonWebToken(token);
        }
        catch (ArgumentException)
        {
            throw new ProviderRejectedException($"The {what} is not a JWT.");
        }

        var signingKeys = await keys.KeysAsync(jwt.Kid, cancellationToken);
        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerValidator = issuerValidator,
            ValidAudiences = audiences,
            IssuerSigningKeys = signingKeys,
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
        return result.IsValid
            ? (JsonWebToken)result.SecurityToken
            : throw new ProviderRejectedException($"The {what} did not verify.");
    }

    /// <summary>A string claim of a token, or null when it is absent or empty (an empty email or name is no email or name).</summary>
    public static string? Claim(JsonWebToken token, string name) => token.TryGetPayloadValue<string>(name, out var value) && value.Length > 0 ? value : null;

    /// <summary>An issuer validator accepting exactly <paramref name="issuers"/>.</summary>
    public static IssuerValidator OneOf(params string[] issuers) => (issuer, _, _) =>
        issuers.Contains(issuer, StringComparer.Ordinal) ? issuer : throw new SecurityTokenInvalidIssuerException("The issuer is not accepted.");
}
