namespace Pan.Data.HandOff;

/// <summary>
/// A single-use login token for the cross-app hand-off (MakeLoginToken → ValidateLoginToken → lever AuthToken): hashed,
/// bound to the app that made it, its <c>auth_url</c>, and the member (and session) it was made for.
/// </summary>
public sealed class StoredLoginToken
{
    /// <summary>Longest stored <see cref="AuthUrl"/>, in characters (the column's size).</summary>
    public const int AuthUrlLength = 2048;

    /// <summary>SHA-256 of the token's text (32 bytes).</summary>
    public byte[] Hash { get; set; } = [];

    /// <summary>The app that made it.</summary>
    public string AppId { get; set; } = string.Empty;

    public string AuthUrl { get; set; } = string.Empty;

    /// <summary>The member it signs in.</summary>
    public long Uid { get; set; }

    /// <summary>The auth session of the access token it was made with; revoking that session kills the login token.</summary>
    public long SessionId { get; set; }

    /// <summary>The member's token generation when it was made; a bump (logout everywhere, password change) kills it.</summary>
    public long TokenGeneration { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }

    /// <summary>Set by the one AuthToken call that consumed it; null while unused.</summary>
    public DateTimeOffset? UsedAt { get; set; }
}
