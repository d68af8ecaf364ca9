using Grpc.Core;
using Pan.Data.PhaseSessions;
using Pan.General.Member;
using Pan.Server.Accounts;
using Pan.Server.BruteForce;
using Pan.Server.Captcha;
using Pan.Server.Errors;
using Pan.Server.Metrics;
using Pan.Server.Network;
using Pan.Server.PhaseSessions;
using Pan.Server.Phones;
using Pan.Server.Registration;
using Pan.Server.Sms;
using Pan.Server.Tokens;
using Phase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;
using ResponseLoginType = Pan.General.Member.LoginResponse.Types.LoginType;
using CodeResult = Pan.General.Member.LoginResponse.Types.CodeResult;
using E = Pan.General.Member.ErrLogin.Types.General;

namespace Pan.Server.Login;

/// <summary>
/// Sign-in. PHONE: CHECK_EXISTENCE (phone → code by SMS; the PHASE_ANDROID_/IOS_ variants are the same step sent from
/// that platform, whose reCAPTCHA token rides in phase_session_valid) → INPUT_CODE (code; empty asks for a resend) →
/// DONE with an auth token for the phone's default member. EMAIL (email + password) and EMAIL_OTC (email one-time code)
/// use the same phases and are handled by <see cref="EmailLoginFlow"/>.
/// Check-existence is one of the two steps allowed to tell whether a phone has an account; it is rate-limited per client
/// address (<see cref="PhoneLookupLimit"/>), tells only once the captcha the flow needs (if any) is passed, and its code
/// goes out only past the SMS caps. A flow that had to wait for its captcha tells at INPUT_CODE, after UnlockSessionToken.
/// </summary>
public sealed class LoginFlow(
    PhoneNumbers phones,
    AccountDirectory accounts,
    PhaseSessionStore sessions,
    PhoneCodeSender sender,
    TokenService tokens,
    FailureCounter failures,
    LoginCodeStepReader codeSteps,
    EmailLoginFlow emailLogin,
    PhoneLookupLimit lookups,
    PanMetrics metrics)
{
    public static readonly FlowErrors Errors = FlowErrors.From(
        E.SessionInvalid, E.CodeInvalid, E.CodePending, E.CodePending10, E.RecaptchaFailed, E.SessionInvalid);

    public Task<LoginResponse> HandleAsync(LoginRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        if (request.LoginType is LoginType.Email or LoginType.EmailOtc)
        {
            return emailLogin.HandleAsync(request, http, cancellationToken);
        }

        if (!Enum.IsDefined(request.LoginType))
        {
            throw PanError.InvalidArgument("login_type", "is not a known login type");
        }

        return request.Phase switch
        {
            Phase.CheckExistence or Phase.AndroidDefault or Phase.IosDefault or Phase.AndroidEnterpise or Phase.IosEnterpise
                => CheckExistenceAsync(request, http, cancellationToken),
            Phase.InputCode => InputCodeAsync(request, http, cancellationToken),
            _ => throw PanError.InvalidArgument("phase", "must be PHASE_CHECK_EXISTENCE (or a platform variant) or PHASE_INPUT_CODE"),
        };
    }

    /// <summary>The captcha platform a check-existence phase names.</summary>
    public static CaptchaPlatform PlatformOf(Phase phase) => phase switch
    {
        Phase.AndroidDefault => CaptchaPlatform.Android,
        Phase.IosDefault => CaptchaPlatform.Ios,
        Phase.AndroidEnterpise => CaptchaPlatform.AndroidEnterprise,
        Phase.IosEnterpise => CaptchaPlatform.IosEnterprise,
        _ => CaptchaPlatform.Web,
    };

    private async Task<LoginResponse> CheckExistenceAsync(LoginRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var phone = phones.SmsDestinationWithCountry(request.PhaseCheckExistenceCountryCode, request.PhaseCheckExistenceValue, "phase_check_existence_country_code", "phase_check_existence_value");
        RegisterFlow.ValidateAppId(request.AppId);
        var lookup = await lookups.AdmitAsync(http, Errors, cancellationToken);
        // Why the lookup comes before the captcha decision, for every phone: the work done must not depend on whether the
        // phone has an account. Its answer waits for the captcha (StartAndSendAsync): a flow without a member is opened
        // with no uid and waits like any other, and INPUT_CODE tells once the captcha is passed (SECURITY 15).
        // Why a loop: the member found may be deleted before the flow holds it (FlowMemberGoneException, nothing written
        // or sent); the phone is then looked up again and has no live member now, or another one to sign in. Each turn
        // needs another member of the phone deleted meanwhile, so it ends.
        string token;
        SendOutcome sent;
        while (true)
        {
            var found = await accounts.DefaultMemberByPhoneAsync(phone.E164, cancellationToken);
            try
            {
                (_, token, sent) = await sender.StartAndSendAsync(PhasePurposes.Login, phone, found.Member?.Uid, http.ClientIpText(), ClientAddress.Of(http),
                    PlatformOf(request.Phase), request.PhaseSessionValid, SmsPurpose.Login, Errors, found.Member is null ? NoMember(found) : null, lookup,
                    cancellationToken);
                break;
            }
            catch (FlowMemberGoneException)
            {
            }
        }

        return new LoginResponse
        {
            Phase = request.Phase,
            NextPhase = Phase.InputCode,
            PhaseCheckExistenceLoginType = ResponseLoginType.Phone,
            PhaseCheckExistenceQuestion = false,
            PhaseInputCodeResult = CodeResult.Ok,
            PhaseInputCodeTimeRemaining = sent.Seconds,
            PhaseSessionToken = token,
        };
    }

    private async Task<LoginResponse> InputCodeAsync(LoginRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        // Why one read: the session, its member's failure state and the phone's account come back in one statement
        // (LoginCodeStepReader); the checks below use them in the same order as separate reads would.
        var step = await codeSteps.ReadAsync(request.PhaseSessionToken, PhasePurposes.Login, cancellationToken) ?? throw Errors.SessionInvalid();
        var session = step.Session;
        if (session.CompletedAt is not null)
        {
            throw Errors.SessionInvalid();
        }

        if (PhaseSessionStore.HeldForCaptcha(session))
        {
            throw Errors.CaptchaRequired(request.PhaseSessionToken);
        }

        // Why before the code is judged: a code texted before the number was blocked signs nobody in after it, and
        // blocking is not secret to the number's owner (read with the session, no extra round trip).
        if (step.PhoneBlocked)
        {
            throw new PhoneBlocks.PhoneBlockedException();
        }

        // Why: a flow that never sent its code was opened only to keep CHECK_EXISTENCE silent before the captcha (the
        // phone had no member), or its phone lost its member before the captcha was passed; now it tells, from the
        // phone's account as read with the session. A flow opened without a member never goes on, even if the phone
        // has one now: the client starts again (its failures would count against no member).
        if (session.CodesSent == 0 && step.Phone.Member is null)
        {
            throw NoMember(step.Phone);
        }

        if (session.Uid is null)
        {
            throw Errors.SessionInvalid();
        }

        var phone = new PhoneNumber(session.PhoneE164!, session.PhoneCountryCode, string.Empty);
        if (string.IsNullOrEmpty(request.PhaseInputCodeValue))
        {
            var resent = await sender.SendOrThrowAsync(session, phone, SmsPurpose.Login, ClientAddress.Of(http), Errors, request.PhaseSessionToken, cancellationToken);
            return new LoginResponse
            {
                Phase = Phase.InputCode,
                NextPhase = Phase.InputCode,
                PhaseCheckExistenceLoginType = ResponseLoginType.Phone,
                PhaseInputCodeResult = CodeResult.Resent,
                PhaseInputCodeTimeRemaining = resent.Seconds,
                PhaseSessionToken = request.PhaseSessionToken,
            };
        }

        // Why: one failure counter per member for passwords, codes and answers (SECURITY 10); locked answers like wrong.
        // Why the verdict without the code: a dead, expired or used code answers so for every member, locked or not.
        var failureState = step.Failures;
        if (failureState.Locked)
        {
            metrics.SignIn(SignInMethods.Phone, SignInOutcomes.Locked);
            throw Errors.CodeInvalid(sessions.VerdictWithoutTheCode(session) ?? CodeCheck.Wrong);
        }

        // Why read with the session: the default member may have changed (or been deleted) since check-existence; it is
        // chosen again now. Its absence is told only after the code is accepted, as before.
        var found = step.Phone;
        var check = CodeCheck.NoCode;

        // Why one transaction: accepting the code, clearing the streak and opening the auth session are one operation
        // (SECURITY 21): a failure half-way leaves the code unused rather than spent without a session; one commit. A
        // wrong code opens no session but its counted try is committed (SECURITY 7).
        var auth = await SignIns.CountAsync(metrics, SignInMethods.Phone, () => tokens.IssueAuthTokenAsync(AuthMethods.Phone, async ct =>
        {
            // Why complete: acceptance and finishing the flow are one conditional UPDATE (a flow is finished only once).
            check = await sessions.VerifyCodeAsync(session, request.PhaseInputCodeValue, ct, complete: true);
            if (check != CodeCheck.Accepted)
            {
                return null;
            }

            // Why HasStreak: a member without a failure streak has no counter row to clear (the common case).
            if (session.Uid is { } succeeded && failureState.HasStreak)
            {
                await failures.ResetAsync(succeeded, ct);
            }

            // Why any member of the phone: the code proves the phone, which holds every member under it; a suspended default
            // member leaves the sign-in to another live, unsuspended member, and only a phone whose members are all
            // suspended is refused (TokenService, in this transaction).
            return found.Member is { } member ? new AuthSubject(member.Uid, member.ObjectId, member.AccountId) { AnyMemberOfThePhone = true } : null;
        }, cancellationToken));
        if (check != CodeCheck.Accepted)
        {
            metrics.SignIn(SignInMethods.Phone, SignInOutcomes.Wrong);
            if (session.Uid is { } failed && check.IsGuess())
            {
                await failures.RecordFailureAsync(failed, cancellationToken);
            }

            throw Errors.CodeInvalid(check);
        }

        if (auth is null)
        {
            metrics.SignIn(SignInMethods.Phone, SignInOutcomes.NoMember);
            throw NoMember(found);
        }

        metrics.SignIn(SignInMethods.Phone, SignInOutcomes.Ok);
        return new LoginResponse
        {
            Phase = Phase.InputCode,
            NextPhase = Phase.Done,
            PhaseCheckExistenceLoginType = ResponseLoginType.Phone,
            PhaseInputCodeResult = CodeResult.Ok,
            PhaseDoneAuthToken = auth.Token,
            PhaseSessionToken = request.PhaseSessionToken,
        };
    }

    /// <summary>The answer for a phone without a member to sign in: no account, or an account with no live member.</summary>
    private static RpcException NoMember(PhoneDefault found) => found.AccountFound
        ? PanError.Of(E.PhoneHasNoMember, StatusCode.NotFound, "This phone has no member left; sign up again.")
        : PanError.Of(E.NotFound, StatusCode.NotFound, "No account has this phone; sign up instead.");
}
