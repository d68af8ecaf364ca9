using Pan.Data.Members;

namespace Pan.Server.Tokens;

/// <summary>The <c>auth_method</c> claim of an auth token: how the phone-level session was opened.</summary>
public static class AuthMethods
{
    public const string Phone = "auth-by-phone";
    public const string Password = "auth-by-password";
    public const string EmailCode = "auth-by-email-code";
    public const string Switch = "auth-by-switch";
    public const string LoginToken = "auth-by-login-token";
}

/// <summary>What a valid auth token says. <see cref="SessionId"/> is the server-side session that revocation ends.</summary>
public sealed record AuthTokenClaims(long Uid, Guid ObjectId, long AccountId, long SessionId, DateTimeOffset Expires, string AuthMethod);

/// <summary>What a valid per-app access token says.</summary>
public sealed record AccessTokenInfo(long Uid, Guid ObjectId, long AccountId, long SessionId, string AppId, DateTimeOffset Expires);

public sealed record IssuedToken(string Token, DateTimeOffset Expires);

/// <summary>
/// Issues, validates and revokes Pan's tokens. Auth tokens are JWTs (HS512 with per-deployment keys persisted in the
/// database and rotated without downtime) carrying uid, object_id, expire and auth_method plus a server-side session id;
/// access tokens are opaque 256-bit secrets stored hashed; verify tokens are single-use, short-lived and bound to a
/// member and a purpose. Every validation consults the database, so a revocation on one node holds on all at once.
/// </summary>
public sealed class TokenService
{
    public Task<IssuedToken> IssueAuthTokenAsync(Member member, string authMethod, CancellationToken cancellationToken) =>
        throw new NotImplementedException("tokens helper");

    /// <summary>Null when the token is malformed, badly signed, expired or revoked.</summary>
    public Task<AuthTokenClaims?> ValidateAuthTokenAsync(string? token, CancellationToken cancellationToken) =>
        throw new NotImplementedException("tokens helper");

    /// <summary>An access token for <paramref name="member"/> (any member under the auth token's phone) and one app.</summary>
    public Task<IssuedToken> IssueAccessTokenAsync(AuthTokenClaims auth, Member member, string appId, CancellationToken cancellationToken) =>
        throw new NotImplementedException("tokens helper");

    /// <summary>Null when the token is unknown, expired or revoked, or its member was deleted.</summary>
    public Task<AccessTokenInfo?> ValidateAccessTokenAsync(string? token, CancellationToken cancellationToken) =>
        throw new NotImplementedException("tokens helper");

    public Task RevokeSessionAsync(long sessionId, CancellationToken cancellationToken) =>
        throw new NotImplementedException("tokens helper");

    /// <summary>Ends every session and access token of one member.</summary>
    public Task RevokeMemberAsync(long uid, CancellationToken cancellationToken) =>
        throw new NotImplementedException("tokens helper");

    /// <summary>Ends every session and access token of every member under an account.</summary>
    public Task RevokeAccountAsync(long accountId, CancellationToken cancellationToken) =>
        throw new NotImplementedException("tokens helper");

    /// <summary>A step-up token: single-use, valid for minutes, bound to <paramref name="uid"/> and <paramref name="purpose"/>.</summary>
    public Task<IssuedToken> IssueVerifyTokenAsync(long uid, string purpose, CancellationToken cancellationToken) =>
        throw new NotImplementedException("tokens helper");

    /// <summary>Consumes a verify token; true exactly once, for the right member and purpose, before it expires.</summary>
    public Task<bool> ConsumeVerifyTokenAsync(string? token, long uid, string purpose, CancellationToken cancellationToken) =>
        throw new NotImplementedException("tokens helper");
}

/// <summary>Purposes a verify token can be bound to.</summary>
public static class VerifyPurposes
{
    public const string SwitchMember = "switch-member";
    public const string UpdateCredential = "update-credential";
    public const string Delete = "delete";
}
