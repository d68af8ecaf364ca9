using System.Security.Cryptography;

namespace Pan.Server.OAuth;

/// <summary>
/// Makes the material of a new provider key (<see cref="OAuthKeyRing"/>): an RSA-2048 private key (PKCS#8) to sign, 32
/// random bytes (AES-256) to encrypt.
/// </summary>
/// <remarks>
/// Why a service of its own: making an RSA key takes a tenth of a second or more, so it is made before any transaction
/// opens (on SQLite a transaction holds the database's one write lock, and every other writer waits for it); tests
/// replace it to see when it runs.
/// </remarks>
public class OAuthKeyMaker
{
    public virtual byte[] Make(string kind)
    {
        if (kind != OAuthKeyRing.Signing)
        {
            return RandomNumberGenerator.GetBytes(32);
        }

        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKey();
    }
}

/// <summary>The material of one new generation of the provider's keys (<see cref="OAuthKeyRing.NewMaterial"/>).</summary>
public sealed record OAuthKeyMaterial(byte[] Signing, byte[] Encryption)
{
    public byte[] For(string kind) => kind == OAuthKeyRing.Signing ? Signing : Encryption;
}
