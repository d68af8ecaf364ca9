using Microsoft.Extensions.Options;

namespace Pan.Server.Omniauth;

/// <summary>
/// Verifies Google ID tokens (JWTs) with <see cref="IdTokens"/>: RS256 by a key of Google's JWKS
/// (<c>Pan:Omniauth:Google:JwksUrl</c>), issuer <c>https://accounts.google.com</c> or <c>accounts.google.com</c>,
/// audience one of <c>Pan:Omniauth:Google:ClientIds</c>, and expiry by Pan's clock.
/// </summary>
public sealed class GoogleIdTokens(ProviderHttp http, IOptions<OmniauthOptions> options, TimeProvider clock) : IDisposable
{
    private static readonly Microsoft.IdentityModel.Tokens.IssuerValidator Issuers = IdTokens.OneOf("https://accounts.google.com", "accounts.google.com");

    private readonly JwksKeys keys = new(http, clock, SocialProviders.Google, () => options.Value.Google.JwksUrl);

    /// <summary>The token's user, or a <see cref="ProviderRejectedException"/> when it does not verify.</summary>
    public async Task<ProviderIdentity> VerifyAsync(string idToken, CancellationToken cancellationToken)
    {
        var claims = await IdTokens.VerifyAsync(idToken, "Google ID token", keys, options.Value.Google.ClientIds, Issuers, clock, cancellationToken);
        var sub = IdTokens.Claim(claims, "sub");
        if (string.IsNullOrEmpty(sub))
        {
            throw new ProviderRejectedException("The Google ID token has no subject.");
        }

        var verified = claims.TryGetPayloadValue<bool>("email_verified", out var v) ? v
            : string.Equals(IdTokens.Claim(claims, "email_verified"), "true", StringComparison.OrdinalIgnoreCase);
        return new ProviderIdentity(SocialProviders.Google, sub, IdTokens.Claim(claims, "email"), verified, IdTokens.Claim(claims, "name"));
    }

    public void Dispose() => keys.Dispose();
}
