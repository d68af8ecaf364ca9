using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Captcha;
using Pan.Server.Errors;
using Pan.Server.Network;
using Pan.Server.Phones;
using Pan.Server.Sms;
using E = Pan.General.Member.ErrUnlockSessionToken.Types.General;

namespace Pan.Server.PhaseSessions;

/// <summary>
/// UnlockSessionToken: a flow that had to pass a captcha (Pan:Captcha:Mode always, or risk when the SMS risk rules
/// trip) is unlocked by a reCAPTCHA token of the client's platform; the code it was waiting for is sent at once.
/// </summary>
public sealed class UnlockSession(PhaseSessionStore sessions, PhoneCodeSender sender)
{
    public async Task<UnlockSessionTokenResponse> HandleAsync(UnlockSessionTokenRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        if (!Enum.IsDefined(request.Platform))
        {
            throw PanError.InvalidArgument("platform", "is not a known platform");
        }

        if (string.IsNullOrWhiteSpace(request.PhaseSessionValid))
        {
            throw PanError.InvalidArgument("phase_session_valid", "the reCAPTCHA token is required");
        }

        var session = await sessions.FindAnyAsync(request.PhaseSessionToken, cancellationToken)
            ?? throw PanError.Of(E.Failed, StatusCode.Unauthenticated, "The phase_session_token is unknown or expired.");
        if (session.CompletedAt is not null)
        {
            throw PanError.Of(E.Failed, StatusCode.FailedPrecondition, "This flow has already finished.");
        }

        if (!await sender.TryPassCaptchaAsync(session, (CaptchaPlatform)(int)request.Platform, request.PhaseSessionValid, cancellationToken))
        {
            throw PanError.Of(E.RecaptchaFailed, StatusCode.PermissionDenied, "The captcha was not accepted.");
        }

        session.CaptchaPassed = true;
        if (session.CodesSent == 0 && session.PhoneE164 is not null)
        {
            var phone = new PhoneNumber(session.PhoneE164, session.PhoneCountryCode, string.Empty);
            var purpose = session.Purpose == PhasePurposes.Login ? SmsPurpose.Login : session.Purpose == PhasePurposes.Register ? SmsPurpose.Register : SmsPurpose.ValidatePhone;
            var outcome = await sender.SendAsync(session, phone, purpose, ClientAddress.Of(http), cancellationToken);
            if (outcome.Failure is SendFailure.Blocked or SendFailure.SessionExhausted)
            {
                throw PanError.Of(E.Failed, StatusCode.ResourceExhausted, "Too many codes were sent; try again later.");
            }
        }

        return new UnlockSessionTokenResponse();
    }
}
