using Fido2NetLib;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;

namespace Pan.Server.Passkeys;

/// <summary>
/// The WebAuthn library configured for Pan's relying party (<see cref="PasskeyOptions"/>), or none when passkeys are
/// off. Attestation "none" only and no metadata service: consumer passkeys need no attestation, and Pan does not reach
/// the internet for the FIDO metadata.
/// </summary>
public sealed class PasskeyCeremonies
{
    private readonly IFido2? fido;

    public PasskeyCeremonies(IOptions<PasskeyOptions> options)
    {
        var settings = options.Value;
        if (settings.Enabled)
        {
            fido = new Fido2(new Fido2Configuration
            {
                RPID = settings.RelyingPartyId!.Trim(),
                RPName = settings.RelyingPartyName!,
                Origins = settings.Origins.ToHashSet(StringComparer.Ordinal),
                Timeout = (uint)PasskeyOptions.ChallengeLifetime.TotalMilliseconds,
            });
        }
    }

    /// <summary>The library, or FAILED_PRECONDITION <paramref name="off"/> when Pan:Passkeys is not configured.</summary>
    public IFido2 Require<TError>(TError off)
        where TError : struct, Enum =>
        fido ?? throw PanError.Of(off, StatusCode.FailedPrecondition, "Passkeys are not configured on this server (Pan:Passkeys).");
}
