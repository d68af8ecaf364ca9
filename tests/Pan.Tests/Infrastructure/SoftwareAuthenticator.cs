using System.Buffers.Binary;
using System.Buffers.Text;
using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// A small WebAuthn authenticator in software, for tests: ES256 (ECDSA P-256) credentials, attestation "none", and the
/// JSON a browser's <c>PublicKeyCredential.toJSON()</c> gives for navigator.credentials.create() and get(). It answers
/// the options Pan sends (challenge, RP ID, user handle) from the origin it is told, so tests can also answer from a
/// wrong origin, for a wrong RP ID, or with a counter of their choosing.
/// </summary>
public sealed class SoftwareAuthenticator(string rpId, string origin)
{
    private const byte UserPresent = 0x01, UserVerified = 0x04, AttestedData = 0x40;

    /// <summary>
    /// Whether this authenticator verifies its user (sets the UV flag), as a platform authenticator or a key with a PIN
    /// does; false plays a security key without one (user presence only).
    /// </summary>
    public bool VerifiesUser { get; init; } = true;

    private byte Verified => VerifiesUser ? UserVerified : (byte)0;

    /// <summary>The AAGUID this authenticator reports.</summary>
    public static readonly Guid Aaguid = Guid.Parse("6f6e0b1e-2b8a-4c53-9d4a-7e3b0c5a1f42");

    /// <summary>One credential this authenticator holds.</summary>
    public sealed class Credential(byte[] id, ECDsa key, byte[] userHandle) : IDisposable
    {
        public byte[] Id { get; } = id;

        public string IdText => Base64Url.EncodeToString(Id);

        public ECDsa Key { get; } = key;

        public byte[] UserHandle { get; } = userHandle;

        /// <summary>The signature counter the next assertion carries (then incremented).</summary>
        public uint Counter { get; set; }

        public void Dispose() => Key.Dispose();
    }

    /// <summary>
    /// Answers creation options (<c>PublicKeyCredentialCreationOptionsJSON</c>): a new credential for its user. Returns the
    /// credential and the RegistrationResponseJSON. <paramref name="credentialId"/>: the credential id to claim (a new
    /// random one when null), as a client that copies another credential's id would.
    /// </summary>
    public (Credential Credential, string Json) Create(string optionsJson, string? fromOrigin = null, string? forRpId = null, uint counter = 0, byte[]? credentialId = null)
    {
        var options = JsonNode.Parse(optionsJson)!;
        var challenge = (string)options["challenge"]!;
        var userHandle = Base64Url.DecodeFromChars((string)options["user"]!["id"]!);
        var credential = new Credential(credentialId ?? RandomNumberGenerator.GetBytes(32), ECDsa.Create(ECCurve.NamedCurves.nistP256), userHandle) { Counter = counter + 1 };
        var clientData = ClientData("webauthn.create", challenge, fromOrigin ?? origin);

        var authData = new List<byte>();
        authData.AddRange(SHA256.HashData(Encoding.UTF8.GetBytes(forRpId ?? rpId)));
        authData.Add((byte)(UserPresent | Verified | AttestedData));
        authData.AddRange(BigEndian(counter));
        authData.AddRange(Aaguid.ToByteArray(bigEndian: true));
        authData.Add((byte)(credential.Id.Length >> 8));
        authData.Add((byte)credential.Id.Length);
        authData.AddRange(credential.Id);
        authData.AddRange(CoseKey(credential.Key));

        var attestation = new CborWriter();
        attestation.WriteStartMap(3);
        attestation.WriteTextString("fmt");
        attestation.WriteTextString("none");
        attestation.WriteTextString("attStmt");
        attestation.WriteStartMap(0);
        attestation.WriteEndMap();
        attestation.WriteTextString("authData");
        attestation.WriteByteString(authData.ToArray());
        attestation.WriteEndMap();

        var json = new JsonObject
        {
            ["id"] = credential.IdText,
            ["rawId"] = credential.IdText,
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["attestationObject"] = Base64Url.EncodeToString(attestation.Encode()),
                ["clientDataJSON"] = Base64Url.EncodeToString(clientData),
                ["transports"] = new JsonArray("internal"),
            },
            ["clientExtensionResults"] = new JsonObject(),
        };
        return (credential, json.ToJsonString());
    }

    /// <summary>
    /// Answers request options (<c>PublicKeyCredentialRequestOptionsJSON</c>) with <paramref name="credential"/>: the
    /// AuthenticationResponseJSON, signed over authenticatorData || SHA-256(clientDataJSON).
    /// </summary>
    public string Get(string optionsJson, Credential credential, string? fromOrigin = null, string? forRpId = null, uint? counter = null)
    {
        var options = JsonNode.Parse(optionsJson)!;
        var challenge = (string)options["challenge"]!;
        var clientData = ClientData("webauthn.get", challenge, fromOrigin ?? origin);
        var count = counter ?? credential.Counter++;

        var authData = new List<byte>();
        authData.AddRange(SHA256.HashData(Encoding.UTF8.GetBytes(forRpId ?? rpId)));
        authData.Add((byte)(UserPresent | Verified));
        authData.AddRange(BigEndian(count));
        var signed = authData.Concat(SHA256.HashData(clientData)).ToArray();
        var signature = credential.Key.SignData(signed, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        var json = new JsonObject
        {
            ["id"] = credential.IdText,
            ["rawId"] = credential.IdText,
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["authenticatorData"] = Base64Url.EncodeToString(authData.ToArray()),
                ["clientDataJSON"] = Base64Url.EncodeToString(clientData),
                ["signature"] = Base64Url.EncodeToString(signature),
                ["userHandle"] = Base64Url.EncodeToString(credential.UserHandle),
            },
            ["clientExtensionResults"] = new JsonObject(),
        };
        return json.ToJsonString();
    }

    private static byte[] ClientData(string type, string challenge, string origin) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["type"] = type, ["challenge"] = challenge, ["origin"] = origin, ["crossOrigin"] = false });

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>The COSE_Key of an ES256 public key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.</summary>
    private static byte[] CoseKey(ECDsa key)
    {
        var point = key.ExportParameters(includePrivateParameters: false).Q;
        var cose = new CborWriter();
        cose.WriteStartMap(5);
        cose.WriteInt32(1);
        cose.WriteInt32(2);
        cose.WriteInt32(3);
        cose.WriteInt32(-7);
        cose.WriteInt32(-1);
        cose.WriteInt32(1);
        cose.WriteInt32(-2);
        cose.WriteByteString(point.X!);
        cose.WriteInt32(-3);
        cose.WriteByteString(point.Y!);
        cose.WriteEndMap();
        return cose.Encode();
    }
}
