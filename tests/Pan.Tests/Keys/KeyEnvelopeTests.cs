using System.Security.Cryptography;
using Pan.Server.Keys;

namespace Pan.Tests.Keys;

/// <summary>The wrapped-key envelope: round trip, and any change of a byte, the key or the row's context is refused.</summary>
public sealed class KeyEnvelopeTests
{
    private static readonly byte[] Key = Convert.FromBase64String(TestKeys.First);
    private static readonly byte[] Material = RandomNumberGenerator.GetBytes(64);

    [Fact]
    public void Sealed_OpensWithTheSameKeyAndContext_AndHidesTheMaterial()
    {
        var envelope = KeyEnvelope.Seal(Key, Material, "signing_keys/k/1");
        Assert.True(KeyEnvelope.IsEnvelope(envelope));
        Assert.Equal(KeyEnvelope.KeyId(Key), KeyEnvelope.WrappedBy(envelope).ToArray());
        Assert.True(envelope.AsSpan().IndexOf(Material) < 0);
        Assert.Equal(Material, KeyEnvelope.Open(Key, envelope, "signing_keys/k/1"));
    }

    [Fact]
    public void TwoSeals_OfOneKey_Differ()
    {
        Assert.NotEqual(KeyEnvelope.Seal(Key, Material, "c"), KeyEnvelope.Seal(Key, Material, "c"));
    }

    [Fact]
    public void AnyTamperedByte_IsRefused()
    {
        var envelope = KeyEnvelope.Seal(Key, Material, "c");
        for (var i = 0; i < envelope.Length; i++)
        {
            var tampered = (byte[])envelope.Clone();
            tampered[i] ^= 0x01;
            Assert.ThrowsAny<CryptographicException>(() => KeyEnvelope.Open(Key, tampered, "c"));
        }
    }

    [Fact]
    public void AnotherRowsContext_OrAnotherKey_IsRefused()
    {
        var envelope = KeyEnvelope.Seal(Key, Material, "oauth_keys/sig/2/a");
        Assert.ThrowsAny<CryptographicException>(() => KeyEnvelope.Open(Key, envelope, "oauth_keys/sig/1/a"));
        Assert.ThrowsAny<CryptographicException>(() => KeyEnvelope.Open(Convert.FromBase64String(TestKeys.Second), envelope, "oauth_keys/sig/2/a"));
    }

    [Fact]
    public void PlainKeys_AreNotTakenForEnvelopes()
    {
        using var rsa = RSA.Create(2048);
        Assert.False(KeyEnvelope.IsEnvelope(rsa.ExportPkcs8PrivateKey()));
        Assert.False(KeyEnvelope.IsEnvelope(Material));
        Assert.False(KeyEnvelope.IsEnvelope(RandomNumberGenerator.GetBytes(32)));
        Assert.False(KeyEnvelope.IsEnvelope("PANKW"u8));
    }
}
