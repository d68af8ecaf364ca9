namespace Pan.Data.Guests;

/// <summary>
/// One apinode token (<c>x-deva-token</c>), opaque 256 bits, stored only as the SHA-256 of its text. It lives while it
/// is not revoked (logout, conversion with activation), has not expired, its member is not deleted and the member's
/// token generation has not moved on (password change, deletion and "logout everywhere" bump it).
/// </summary>
public sealed class GuestToken
{
    /// <summary>SHA-256 of the token's text (32 bytes); the key.</summary>
    public byte[] Hash { get; set; } = [];

    public long Uid { get; set; }

    /// <summary>The app the token was issued to; another app's calls refuse it.</summary>
    public string AppId { get; set; } = string.Empty;

    /// <summary>"temp" (createTemp, 180 days) or "login" (login and convertTemp, 60 days).</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>The member's token_generation when the token was issued.</summary>
    public long TokenGeneration { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }

    public DateTimeOffset? Revoked { get; set; }
}
