using System.Buffers.Text;
using System.Formats.Cbor;
using System.Text.Json;
using Fido2NetLib;
using Fido2NetLib.Objects;
using Fido2NetLib.Serialization;
using Pan.Server.Errors;

namespace Pan.Server.Passkeys;

/// <summary>
/// Reads the PublicKeyCredential JSON a client sends (what <c>PublicKeyCredential.toJSON()</c> gives). Anything that is
/// not such a credential is INVALID_ARGUMENT naming <c>credential_json</c>, before any ceremony is spent.
/// </summary>
public static class PasskeyJson
{
    public const string Field = "credential_json";

    /// <summary>Longest credential JSON read (a passkey's registration is a few kilobytes).</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>The registration response of navigator.credentials.create().</summary>
    public static AuthenticatorAttestationRawResponse Attestation(string json)
    {
        var raw = Read<AuthenticatorAttestationRawResponse>(json, j => JsonSerializer.Deserialize<AuthenticatorAttestationRawResponse>(j));
        CheckIds(raw.Id, raw.RawId, raw.Type);
        if (raw.Response is not { AttestationObject.Length: > 0, ClientDataJson.Length: > 0 })
        {
            throw Invalid("response.attestationObject and response.clientDataJSON are required");
        }

        raw.ClientExtensionResults ??= new AuthenticationExtensionsClientOutputs();
        return raw;
    }

    /// <summary>The authentication response of navigator.credentials.get().</summary>
    public static AuthenticatorAssertionRawResponse Assertion(string json)
    {
        var raw = Read(json, j => JsonSerializer.Deserialize(j, FidoModelSerializerContext.Default.AuthenticatorAssertionRawResponse));
        CheckIds(raw.Id, raw.RawId, raw.Type);
        if (raw.Response is not { AuthenticatorData.Length: > 0, Signature.Length: > 0, ClientDataJson.Length: > 0 })
        {
            throw Invalid("response.authenticatorData, response.signature and response.clientDataJSON are required");
        }

        raw.ClientExtensionResults ??= new AuthenticationExtensionsClientOutputs();
        return raw;
    }

    /// <summary>
    /// Whether the library's failure to check a credential means the credential is refused (a failed check, or bytes it
    /// could not read), as opposed to an outage or a bug.
    /// </summary>
    public static bool IsRefusal(Exception ex) =>
        ex is Fido2VerificationException or CborContentException or FormatException or IndexOutOfRangeException or InvalidCastException
            or ArgumentException or InvalidOperationException
        && !ErrorInterceptor.IsOutage(ex);

    private static T Read<T>(string json, Func<string, T?> parse)
        where T : class
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw Invalid("is required");
        }

        if (json.Length > MaxLength)
        {
            throw Invalid($"is longer than {MaxLength} characters");
        }

        try
        {
            return parse(json) ?? throw Invalid("must be a JSON object");
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NotSupportedException or ArgumentException)
        {
            throw Invalid("is not a PublicKeyCredential as JSON (id, rawId, type, response)");
        }
    }

    private static void CheckIds(string? id, byte[]? rawId, PublicKeyCredentialType? type)
    {
        if (type != PublicKeyCredentialType.PublicKey)
        {
            throw Invalid("type must be \"public-key\"");
        }

        if (rawId is not { Length: > 0 and <= 1023 } || id != Base64Url.EncodeToString(rawId))
        {
            throw Invalid("id and rawId must name the same credential id (base64url, 1–1023 bytes)");
        }
    }

    private static Grpc.Core.RpcException Invalid(string description) => PanError.InvalidArgument(Field, description);
}
