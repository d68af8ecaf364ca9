using Pan.Data.Members;

namespace Pan.Server.Tokens;

/// <summary>Why an auth token was refused (or that it was not).</summary>
public enum AuthTokenStatus
{
    Valid,

    /// <summary>Correctly signed by one of our keys, but its <c>expire</c> has passed (ErrAccessToken.EXPIRED).</summary>
    Expired,

    /// <summary>Malformed, badly signed, signed by a retired key, or its session was revoked (ErrAccessToken.INVALID).</summary>
    Invalid,
}

/// <summary>The outcome of checking an auth token; <see cref="Claims"/> is set only when <see cref="Status"/> is Valid.</summary>
public sealed record AuthTokenCheck(AuthTokenStatus Status, AuthTokenClaims? Claims);

/// <summary>
/// The outcome of looking up an access token together with its member (one query). <see cref="Member"/> (with its
/// Account loaded, not tracked) is set when the token is live; <see cref="MemberDeleted"/> says the token is live but
/// its member was deleted without its tokens being revoked (Me answers MeResponse.Error.NotExists then).
/// </summary>
public sealed record AccessTokenLookup(AccessTokenInfo Info, Member Member)
{
    public bool MemberDeleted => Member.Deleted is not null;
}
