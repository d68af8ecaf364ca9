namespace Pan.Data.Tokens;

/// <summary>
/// One HMAC-SHA512 key that signs auth tokens. Generated on first use and at each rotation, stored here so every
/// node shares it; never in the repository or configuration. <see cref="Generation"/> is unique: two nodes that
/// rotate at once both try to insert the next generation and exactly one wins.
/// </summary>
public sealed class SigningKey
{
    /// <summary>The JWT <c>kid</c> header (random, base64url).</summary>
    public string Kid { get; set; } = string.Empty;

    /// <summary>1, 2, 3, … in creation order; the highest active generation signs.</summary>
    public long Generation { get; set; }

    /// <summary>64 random bytes (512 bits, the HS512 block size).</summary>
    public byte[] Secret { get; set; } = [];

    public DateTimeOffset Created { get; set; }

    /// <summary>From when the key may sign.</summary>
    public DateTimeOffset Activates { get; set; }

    /// <summary>
    /// Set when a newer key took over: the moment every token this key signed has expired. After it the key no longer
    /// verifies anything and may be deleted. Null while the key is the current one.
    /// </summary>
    public DateTimeOffset? Retires { get; set; }
}
