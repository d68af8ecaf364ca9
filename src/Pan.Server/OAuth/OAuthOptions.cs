using System.ComponentModel.DataAnnotations;

namespace Pan.Server.OAuth;

/// <summary>Settings of the OAuth 2.0 / OpenID Connect provider (<c>Pan:OAuth</c>). The issuer is <c>Pan:Links:PublicBaseUrl</c>.</summary>
public sealed class OAuthOptions
{
    public const string Section = "Pan:OAuth";

    /// <summary>
    /// Lifetime of an access token (a signed JWT). Why 10 minutes: an API that checks the JWT offline (JWKS) cannot see
    /// a revocation (password change, "my apps" removal), so a revoked token works there until it expires; the
    /// lifetime bounds that window. APIs that need revocation at once use introspection.
    /// </summary>
    [Range(1, 1440)]
    public int AccessTokenMinutes { get; set; } = 10;

    /// <summary>Lifetime of a refresh token; each use returns a new one (rolling) and the old one dies.</summary>
    [Range(1, 365)]
    public int RefreshTokenDays { get; set; } = 30;

    /// <summary>Lifetime of an authorization code (single use).</summary>
    [Range(10, 600)]
    public int AuthorizationCodeSeconds { get; set; } = 300;

    /// <summary>How long a pending consent request (request_id) waits for Approve / Reject.</summary>
    [Range(1, 60)]
    public int ConsentMinutes { get; set; } = 10;

    /// <summary>
    /// A redeemed refresh token presented again within this many seconds (a client's parallel refreshes) gets a
    /// fresh answer; after it, reuse is treated as theft and revokes the whole grant. 0 revokes at once.
    /// </summary>
    [Range(0, 60)]
    public int RefreshTokenReuseLeewaySeconds { get; set; }

    /// <summary>
    /// Serve the provider over plain http. Only for an issuer on a loopback address (development and tests); any
    /// other issuer must be https and the server refuses to start.
    /// </summary>
    public bool AllowHttpOnLoopback { get; set; }

    /// <summary>
    /// The family apps (the contract's AppId names or numbers) whose members' Pan access tokens may call
    /// <c>pan.oauth.ConsentProcess</c>: the apps that run the consent screen. Why a list the operator sets: every app of
    /// the family holds its members' Pan access tokens, and one allowed here can decide consent for the member (remember
    /// it, take a code for any client), so only apps that show the member the screen belong here. Empty (the default):
    /// no app may, and consent is asked only on Pan's hosted consent page. An unknown app stops the server at start-up.
    /// </summary>
    public List<string> ConsentApps { get; set; } = [];
}
