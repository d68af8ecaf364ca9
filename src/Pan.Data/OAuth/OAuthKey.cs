namespace Pan.Data.OAuth;

/// <summary>
/// One key of the OAuth / OpenID Connect provider: an RSA key that signs tokens (ID tokens, access tokens) or an AES
/// key that encrypts the tokens only Pan reads (authorization codes, refresh tokens). Generated on first start and at
/// each rotation, stored here so every node uses the same keys; never in the repository or configuration.
/// (<see cref="Kind"/>, <see cref="Generation"/>) is unique: two nodes creating the first keys at once both insert
/// generation 1 and exactly one wins.
/// </summary>
public sealed class OAuthKey
{
    public long Id { get; set; }

    /// <summary><c>sig</c> (RSA, RS256) or <c>enc</c> (AES-256 key wrap).</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>1, 2, 3, … per kind; the highest live generation signs or encrypts, older live ones still verify or decrypt.</summary>
    public long Generation { get; set; }

    /// <summary>The JWK <c>kid</c> (random, base64url).</summary>
    public string KeyId { get; set; } = string.Empty;

    /// <summary>PKCS#8 private key (sig) or 32 random bytes (enc).</summary>
    public byte[] Material { get; set; } = [];

    public DateTimeOffset Created { get; set; }

    /// <summary>Set when the key is no longer published or used; retired keys are kept for the record only.</summary>
    public DateTimeOffset? Retired { get; set; }
}
