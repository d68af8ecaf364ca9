using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Pan.Server.Tokens;

/// <summary>
/// Opaque secrets (access and verify tokens): 32 bytes from <see cref="RandomNumberGenerator"/> (256 bits), sent as
/// base64url (43 characters) and stored only as the SHA-256 hash of that text. The social-login API's tokens carry the
/// same 256 bits as 64 lower-case hex characters (the seed's format, <see cref="CreateHex"/>); both shapes are accepted.
/// </summary>
internal static class OpaqueTokens
{
    public const int ByteLength = 32;

    /// <summary>Length of the base64url text of <see cref="ByteLength"/> bytes, without padding.</summary>
    public const int TextLength = 43;

    /// <summary>Length of the lower-case hex text of <see cref="ByteLength"/> bytes.</summary>
    public const int HexLength = 64;

    public static (string Token, byte[] Hash) Create()
    {
        Span<byte> secret = stackalloc byte[ByteLength];
        RandomNumberGenerator.Fill(secret);
        var token = Base64Url.EncodeToString(secret);
        return (token, HashText(token));
    }

    /// <summary>A 256-bit secret as 64 lower-case hex characters, and its stored hash.</summary>
    public static (string Token, byte[] Hash) CreateHex()
    {
        Span<byte> secret = stackalloc byte[ByteLength];
        RandomNumberGenerator.Fill(secret);
        var token = Convert.ToHexStringLower(secret);
        return (token, HashText(token));
    }

    /// <summary>The stored hash of <paramref name="token"/>, or null when it cannot be one of ours (wrong length or alphabet).</summary>
    public static byte[]? Hash(string? token) =>
        // Why: refuse anything of the wrong shape before touching the database (and before hashing large input).
        // The text, not the decoded bytes, is hashed, so two spellings of the same bytes can never both work.
        token switch
        {
            { Length: TextLength } when token.All(IsBase64UrlChar) => HashText(token),
            { Length: HexLength } when token.All(IsLowerHexChar) => HashText(token),
            _ => null,
        };

    /// <summary>A random identifier (for jti and kid), not a secret.</summary>
    public static string RandomId(int bytes = 16)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(buffer);
        return Base64Url.EncodeToString(buffer);
    }

    private static byte[] HashText(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));

    private static bool IsBase64UrlChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    private static bool IsLowerHexChar(char c) => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f';
}
