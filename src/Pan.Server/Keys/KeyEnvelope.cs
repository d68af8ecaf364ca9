using System.Security.Cryptography;
using System.Text;

namespace Pan.Server.Keys;

/// <summary>
/// The stored form of a wrapped key: <c>"PANKW"</c>, a version byte (1), the wrapping key's id (the first 8 bytes of
/// SHA-256 of the key), a random 96-bit nonce, the AES-256-GCM ciphertext and its 128-bit tag. The header and the
/// row's identity (its context, e.g. <c>oauth_keys/sig/2/…</c>) are the associated data, so changing any byte or
/// copying the value into another row is refused.
/// </summary>
public static class KeyEnvelope
{
    public const int KeyBytes = 32;
    public const byte Version = 1;
    public const int KeyIdBytes = 8;

    // Why a 5-byte magic plus the version: stored keys from before wrapping are random bytes or PKCS#8 (which starts
    // with 0x30), so a plain key is taken for an envelope only if its first 6 bytes happen to match (2^-48).
    private static ReadOnlySpan<byte> Magic => "PANKW"u8;

    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int HeaderBytes = 5 + 1 + KeyIdBytes;

    /// <summary>Bytes an envelope adds to the key it wraps.</summary>
    public const int Overhead = HeaderBytes + NonceBytes + TagBytes;

    /// <summary>True when <paramref name="stored"/> is an envelope (of any version) rather than a plain key.</summary>
    public static bool IsEnvelope(ReadOnlySpan<byte> stored) => stored.Length >= Overhead && stored.StartsWith(Magic);

    /// <summary>The id of a wrapping key as written in envelopes and messages.</summary>
    public static byte[] KeyId(ReadOnlySpan<byte> key) => SHA256.HashData(key)[..KeyIdBytes];

    /// <summary>The id of the key that wrapped <paramref name="envelope"/> (call only when <see cref="IsEnvelope"/>).</summary>
    public static ReadOnlySpan<byte> WrappedBy(ReadOnlySpan<byte> envelope) => envelope.Slice(Magic.Length + 1, KeyIdBytes);

    /// <summary>Wraps <paramref name="plaintext"/> with <paramref name="key"/> for the row named by <paramref name="context"/>.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, string context)
    {
        var envelope = new byte[Overhead + plaintext.Length];
        Magic.CopyTo(envelope);
        envelope[Magic.Length] = Version;
        KeyId(key).CopyTo(envelope.AsSpan(Magic.Length + 1));
        var nonce = envelope.AsSpan(HeaderBytes, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(
            nonce,
            plaintext,
            envelope.AsSpan(HeaderBytes + NonceBytes, plaintext.Length),
            envelope.AsSpan(envelope.Length - TagBytes),
            AssociatedData(envelope, context));
        return envelope;
    }

    /// <summary>
    /// Unwraps an envelope made by <see cref="Seal"/> with the same key and context. Throws
    /// <see cref="CryptographicException"/> when the version is unknown or any byte, the key or the context differ.
    /// </summary>
    public static byte[] Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> envelope, string context)
    {
        if (!IsEnvelope(envelope) || envelope[Magic.Length] != Version)
        {
            throw new CryptographicException("Not a version-1 key envelope.");
        }

        var plaintext = new byte[envelope.Length - Overhead];
        using var aes = new AesGcm(key, TagBytes);
        aes.Decrypt(
            envelope.Slice(HeaderBytes, NonceBytes),
            envelope.Slice(HeaderBytes + NonceBytes, plaintext.Length),
            envelope[^TagBytes..],
            plaintext,
            AssociatedData(envelope, context));
        return plaintext;
    }

    private static byte[] AssociatedData(ReadOnlySpan<byte> envelope, string context) =>
        [.. envelope[..HeaderBytes], .. Encoding.UTF8.GetBytes(context)];
}
