namespace Pan.Data.Tokens;

/// <summary>
/// One opaque per-app access token. Only its SHA-256 hash is stored (the key), so a copy of the database does not
/// yield usable tokens. It lives while its <see cref="AuthSession"/> is not revoked, it has not expired, its member
/// is not deleted and the member's token generation has not moved on.
/// </summary>
public sealed class StoredAccessToken
{
    /// <summary>SHA-256 of the token's bytes (32 bytes).</summary>
    public byte[] Hash { get; set; } = [];

    public long SessionId { get; set; }

    public AuthSession? Session { get; set; }

    /// <summary>The member the token is for (any member under the session's account).</summary>
    public long Uid { get; set; }

    /// <summary>The app (canonical name from pan.general.application.AppId).</summary>
    public string AppId { get; set; } = string.Empty;

    /// <summary>The member's <c>token_generation</c> when the token was issued; a bump revokes the token.</summary>
    public long TokenGeneration { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }
}
