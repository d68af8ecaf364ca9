using Grpc.Core;
using Pan.Data.PhaseSessions;
using Pan.General.Member;
using Pan.Server.Accounts;
using Pan.Server.Captcha;
using Pan.Server.Errors;
using Pan.Server.Network;
using Pan.Server.Phones;
using Pan.Server.Sms;
using E = Pan.General.Member.ErrUnlockSessionToken.Types.General;

namespace Pan.Server.PhaseSessions;

/// <summary>
/// UnlockSessionToken: a flow that had to pass a captcha (Pan:Captcha:Mode always, or risk when the SMS risk rules
/// trip) is unlocked by a reCAPTCHA token of the client's platform; the code it was waiting for is sent at once, when
/// the flow can go on.
/// </summary>
/// <remarks>
/// Why "can go on": the phone check-existence steps start a flow waiting for its captcha whether or not the phone has an
/// account (SECURITY 15). Once the captcha is passed, a sign-in flow whose phone has no member, or a sign-up flow whose
/// phone is taken, sends nothing (no SMS, nothing counted against the caps) and the unlock still succeeds; the flow's
/// next step tells why it cannot go on. The phone is read again here, since its account may have changed meanwhile.
/// </remarks>
public sealed class UnlockSession(PhaseSessionStore sessions, PhoneCodeSender sender, AccountDirectory accounts)
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
        // Why also a flow that has sent codes: in captcha mode risk a resend to a risky phone waits for its captcha
        // (PhoneCodeSender.SendOrThrowAsync); the unlock sends it, within the flow's cool-down and the SMS caps.
        if (session.PhoneE164 is not null && (session.CodesSent > 0 || await CanGoOnAsync(session, cancellationToken)))
        {
            var phone = new PhoneNumber(session.PhoneE164, session.PhoneCountryCode, string.Empty);
            var purpose = session.Purpose == PhasePurposes.Login ? SmsPurpose.Login : session.Purpose == PhasePurposes.Register ? SmsPurpose.Register : SmsPurpose.ValidatePhone;
            var outcome = await sender.SendAsync(session, phone, purpose, ClientAddress.Of(http), cancellationToken);
            if (outcome.Failure == SendFailure.MemberGone)
            {
                // Why: the flow died with its member; this is what an unknown flow is answered.
                throw PanError.Of(E.Failed, StatusCode.Unauthenticated, "The phase_session_token is unknown or expired.");
            }

            if (outcome.Failure is SendFailure.Blocked or SendFailure.SessionExhausted)
            {
                throw PanError.Of(E.Failed, StatusCode.ResourceExhausted, "Too many codes were sent; try again later.");
            }
        }

        return new UnlockSessionTokenResponse();
    }

    /// <summary>Whether the flow may send its code now: a sign-in needs a member on the phone, a sign-up a free phone.</summary>
    private async Task<bool> CanGoOnAsync(PhaseSession session, CancellationToken cancellationToken) => session.Purpose switch
    {
        PhasePurposes.Login => session.Uid is not null && (await accounts.DefaultMemberByPhoneAsync(session.PhoneE164!, cancellationToken)).Member is not null,
        PhasePurposes.Register => !await accounts.PhoneTakenAsync(session.PhoneE164!, cancellationToken),
        _ => true,
    };
}
