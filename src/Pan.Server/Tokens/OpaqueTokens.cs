using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Pan.Server.Tokens;

/// <summary>
/// Opaque secrets (access and verify tokens): 32 bytes from <see cref="RandomNumberGenerator"/> (256 bits), sent as
/// base64url (43 characters) and stored only as the SHA-256 hash of that text.
/// </summary>
internal static class OpaqueTokens
{
    public const int ByteLength = 32;

    /// <summary>Length of the base64url text of <see cref="ByteLength"/> bytes, without padding.</summary>
    public const int TextLength = 43;

    public static (string Token, byte[] Hash) Create()
    {
        Span<byte> secret = stackalloc byte[ByteLength];
        RandomNumberGenerator.Fill(secret);
        var token = Base64Url.EncodeToString(secret);
        return (token, HashText(token));
    }

    /// <summary>The stored hash of <paramref name="token"/>, or null when it cannot be one of ours (wrong length or alphabet).</summary>
    public static byte[]? Hash(string? token) =>
        // Why: refuse anything of the wrong shape before touching the database (and before hashing large input).
        // The text, not the decoded bytes, is hashed, so two spellings of the same bytes can never both work.
        token is { Length: TextLength } && token.All(IsBase64UrlChar) ? HashText(token) : null;

    /// <summary>A random identifier (for jti and kid), not a secret.</summary>
    public static string RandomId(int bytes = 16)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(buffer);
        return Base64Url.EncodeToString(buffer);
    }

    private static byte[] HashText(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));

    private static bool IsBase64UrlChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
}
