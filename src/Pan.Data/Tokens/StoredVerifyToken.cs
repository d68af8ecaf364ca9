namespace Pan.Data.Tokens;

/// <summary>A step-up token: hashed, bound to one member and one purpose, valid for minutes, usable once.</summary>
public sealed class StoredVerifyToken
{
    /// <summary>SHA-256 of the token's bytes (32 bytes).</summary>
    public byte[] Hash { get; set; } = [];

    public long Uid { get; set; }

    /// <summary>The operation it unlocks (e.g. switch-member, update-credential, delete).</summary>
    public string Purpose { get; set; } = string.Empty;

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }

    /// <summary>Set by the one consumer that won; null while unused.</summary>
    public DateTimeOffset? UsedAt { get; set; }
}
