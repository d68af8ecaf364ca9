using Grpc.Core;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;
using Pan.Server.Tokens;

namespace Pan.Server.Admin;

/// <summary>
/// GoogleLogin: a Google OAuth access token → an admin token, when Google vouches for the token (tokeninfo), it was
/// issued to <c>Pan:Admin:Google:ClientId</c> (aud or azp), its email is verified and on the admin allow-list.
/// These failures have no seed vocabulary, so they carry plain reasons:
/// <list type="bullet">
/// <item>ClientId not configured: FAILED_PRECONDITION ADMIN_LOGIN_NOT_CONFIGURED (fail closed).</item>
/// <item>Google refuses the token, or it is for another client, expired or has no email: UNAUTHENTICATED GOOGLE_TOKEN_INVALID.</item>
/// <item>Email not verified, or not allow-listed: PERMISSION_DENIED NOT_AN_ADMIN (one answer for both).</item>
/// <item>Google unreachable, slow or failing: UNAVAILABLE.</item>
/// </list>
/// </summary>
public sealed class GoogleAdminSignIn(GoogleTokenInfo google, AdminDirectory admins, IOptions<AdminOptions> options, ILogger<GoogleAdminSignIn> logger)
{
    /// <summary>Google access tokens are a few hundred characters; anything far longer is refused without calling Google.</summary>
    public const int MaxAccessTokenLength = 4096;

    /// <summary>
    /// The allow-listed admin's email (lower-cased) when Google vouches for <paramref name="accessToken"/>; else the
    /// errors above. <paramref name="email"/> is set as soon as Google names the account (for the audit). Writes nothing.
    /// </summary>
    public async Task<string> CheckAsync(string accessToken, Action<string> email, CancellationToken cancellationToken)
    {
        var clientId = options.Value.Google.ClientId;
        if (string.IsNullOrWhiteSpace(clientId))
        {
            logger.LogWarning("GoogleLogin refused: Pan:Admin:Google:ClientId is not configured");
            throw PanError.Plain(StatusCode.FailedPrecondition, "ADMIN_LOGIN_NOT_CONFIGURED", "Admin sign-in is not configured on this server.");
        }

        var facts = await google.LookupAsync(accessToken, cancellationToken);
        if (facts is null || string.IsNullOrWhiteSpace(facts.Email) || facts.ExpiresInSeconds <= 0
            || !(string.Equals(facts.Audience, clientId, StringComparison.Ordinal) || string.Equals(facts.AuthorizedParty, clientId, StringComparison.Ordinal)))
        {
            logger.LogInformation("GoogleLogin refused a Google token: {Problem}", facts is null ? "Google rejected it" : "wrong audience, no email or expired");
            throw PanError.Plain(StatusCode.Unauthenticated, "GOOGLE_TOKEN_INVALID", "The Google access token is not valid for the admin console.");
        }

        var address = AdminDirectory.Key(facts.Email);
        email(address);
        if (!facts.EmailVerified || await admins.FindAsync(address, cancellationToken) is null)
        {
            logger.LogWarning("GoogleLogin refused {Email}: {Problem}", Members.EmailAddresses.ForLog(address), facts.EmailVerified ? "not on the admin allow-list" : "email not verified");
            throw PanError.Plain(StatusCode.PermissionDenied, "NOT_AN_ADMIN", "This Google account may not use the admin console.");
        }

        return address;
    }

    /// <summary>A new admin token for <paramref name="address"/> (from <see cref="CheckAsync"/>); joins the caller's transaction.</summary>
    public async Task<IssuedToken> OpenSessionAsync(string address, CancellationToken cancellationToken)
    {
        var token = await admins.OpenSessionAsync(address, cancellationToken);
        logger.LogInformation("Admin {Email} signed in", Members.EmailAddresses.ForLog(address));
        return token;
    }
}
