using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Pan.Server.Keys;

/// <summary>
/// Wraps the secret parts of Data Protection keys (the master key) with <c>Pan:Keys:EncryptionKey</c> through Data
/// Protection's own extension point; the key XML then holds <c>&lt;encryptedSecret decryptorType="…"&gt;</c> around a
/// <c>&lt;panWrapped&gt;</c> element with a base64 <see cref="KeyEnvelope"/>.
/// </summary>
public sealed class DataProtectionKeyEncryptor(KeyEncryption keys) : IXmlEncryptor
{
    /// <summary>The element that holds the envelope inside <c>encryptedSecret</c>.</summary>
    public static readonly XName Wrapped = "panWrapped";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var envelope = keys.Protect(plaintext, KeyContexts.DataProtection);
        return new EncryptedXmlInfo(new XElement(Wrapped, Convert.ToBase64String(envelope)), typeof(DataProtectionKeyDecryptor));
    }
}

/// <summary>Unwraps what <see cref="DataProtectionKeyEncryptor"/> wrapped; Data Protection creates it by the type name in the key XML.</summary>
public sealed class DataProtectionKeyDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var keys = services.GetRequiredService<KeyEncryption>();
        var envelope = Convert.FromBase64String(encryptedElement.Value);
        if (!KeyEnvelope.IsEnvelope(envelope))
        {
            throw new KeyEncryptionException("A Data Protection key in the database has a damaged encrypted secret.");
        }

        var plaintext = keys.Unprotect(envelope, KeyContexts.DataProtection, "A Data Protection key");
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}

/// <summary>Rewrites stored Data Protection key XML at start-up: plain secrets wrapped, secrets under an older key re-wrapped.</summary>
internal static class DataProtectionKeyXml
{
    private static readonly XNamespace DataProtectionNamespace = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName EncryptedSecret = DataProtectionNamespace + "encryptedSecret";
    private static readonly XName DecryptorType = "decryptorType";
    private static readonly XName RequiresEncryption = DataProtectionNamespace + "requiresEncryption";

    /// <summary>The XML to store instead of <paramref name="xml"/>, or null when it is already wrapped with the current key.</summary>
    public static string? Rewrap(string xml, KeyEncryption keys)
    {
        var root = XElement.Parse(xml);
        var encryptor = new DataProtectionKeyEncryptor(keys);
        var changed = false;

        // Why the same markup as Data Protection's own encryption: the key manager then reads the row as if it had
        // been written encrypted (it finds encryptedSecret and creates the decryptor named in it).
        foreach (var plain in root.DescendantsAndSelf().Where(e => (bool?)e.Attribute(RequiresEncryption) == true).ToList())
        {
            plain.ReplaceWith(Seal(encryptor, plain));
            changed = true;
        }

        foreach (var secret in root.Descendants(EncryptedSecret).ToList())
        {
            if (secret.Element(DataProtectionKeyEncryptor.Wrapped) is not { } wrapped
                || Convert.FromBase64String(wrapped.Value) is not { } envelope
                || !keys.NeedsRewrap(envelope))
            {
                continue;
            }

            var inner = XElement.Parse(Encoding.UTF8.GetString(keys.Unprotect(envelope, KeyContexts.DataProtection, "A Data Protection key")));
            secret.ReplaceWith(Seal(encryptor, inner));
            changed = true;
        }

        return changed ? root.ToString(SaveOptions.DisableFormatting) : null;
    }

    /// <summary>Unwraps every secret of a stored key with the configured keys, so a wrong key is found at start-up.</summary>
    public static void Check(string xml, KeyEncryption keys)
    {
        foreach (var wrapped in XElement.Parse(xml).Descendants(EncryptedSecret).Elements(DataProtectionKeyEncryptor.Wrapped))
        {
            keys.Unprotect(Convert.FromBase64String(wrapped.Value), KeyContexts.DataProtection, "A Data Protection key");
        }
    }

    private static XElement Seal(DataProtectionKeyEncryptor encryptor, XElement plain)
    {
        var info = encryptor.Encrypt(new XElement(plain));
        return new XElement(EncryptedSecret, new XAttribute(DecryptorType, info.DecryptorType.AssemblyQualifiedName!), info.EncryptedElement);
    }
}
