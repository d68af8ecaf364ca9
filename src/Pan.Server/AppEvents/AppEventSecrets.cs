using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Pan.Server.AppEvents;

/// <summary>
/// An app's event signing secret: 32 bytes from <see cref="RandomNumberGenerator"/>, shown to the operator once as
/// <c>whsec_</c> and the bytes in unpadded base64url (49 characters). The HMAC key is that text's UTF-8 bytes, so an
/// app verifies with the string it was given, decoding nothing.
/// </summary>
public static class AppEventSecrets
{
    public const string Prefix = "whsec_";

    public const int Bytes = 32;

    /// <summary>New secret material.</summary>
    public static byte[] Create() => RandomNumberGenerator.GetBytes(Bytes);

    /// <summary>The secret as the operator and the app see it.</summary>
    public static string Text(byte[] material) => Prefix + Base64Url.EncodeToString(material);

    /// <summary>The <c>v1</c> signature: lower-case hex of HMAC-SHA256 with the secret's text over <c>timestamp "." body</c>.</summary>
    public static string Sign(byte[] material, long timestamp, string body)
    {
        var key = Encoding.UTF8.GetBytes(Text(material));
        var signed = Encoding.UTF8.GetBytes(timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + body);
        return Convert.ToHexStringLower(HMACSHA256.HashData(key, signed));
    }
}
