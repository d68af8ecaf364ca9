using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Data.PhaseSessions;
using Pan.General.Member;
using Pan.Server.Accounts;
using Pan.Server.Captcha;
using Pan.Server.Data;
using Pan.Server.DisplayNames;
using Pan.Server.Errors;
using Pan.Server.Members;
using Pan.Server.Network;
using Pan.Server.PhaseSessions;
using Pan.Server.Phones;
using Pan.Server.Sms;
using Pan.Server.Tokens;
using Phase = Pan.General.Member.RegisterRequest.Types.Phase;
using CodeResult = Pan.General.Member.RegisterResponse.Types.CodeResult;
using E = Pan.General.Member.ErrRegister.Types.General;

namespace Pan.Server.Registration;

/// <summary>
/// Sign-up by phone: CHECK_EXISTENCE (phone → code by SMS) → INPUT_CODE (code; an empty code asks for a resend) →
/// INPUT_NAME (display name → the account and its first member are created, and an auth token is returned).
/// A phone that already has an account, or is an apinode account's mobile name, gets EXISTING_MEMBER (at check-existence,
/// or, when that step had to wait for its captcha, at the step after UnlockSessionToken); the database's unique phone
/// index decides races between sign-ups, <see cref="PhoneClaims"/> those with a conversion.
/// </summary>
public sealed class RegisterFlow(
    PhoneNumbers phones,
    AccountDirectory accounts,
    PhaseSessionStore sessions,
    PhoneCodeSender sender,
    DisplayNameDirectory names,
    MemberCreator creator,
    TokenService tokens,
    TimeProvider clock,
    PhoneLookupLimit lookups,
    Pan.Data.PanDbContext db,
    Metrics.PanMetrics metrics)
{
    public static readonly FlowErrors Errors = FlowErrors.From(
        E.SessionInvalid, E.CodeInvalid, E.CodePending, E.CodePending10, E.RecaptchaFailed, E.RetryRequired);

    public Task<RegisterResponse> HandleAsync(RegisterRequest request, HttpContext http, CancellationToken cancellationToken) =>
        request.Phase switch
        {
            Phase.CheckExistence => CheckExistenceAsync(request, http, cancellationToken),
            Phase.InputCode => InputCodeAsync(request, http, cancellationToken),
            Phase.InputName => InputNameAsync(request, http, cancellationToken),
            _ => throw PanError.InvalidArgument("phase", "must be PHASE_CHECK_EXISTENCE, PHASE_INPUT_CODE or PHASE_INPUT_NAME"),
        };

    private async Task<RegisterResponse> CheckExistenceAsync(RegisterRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var phone = phones.SmsDestinationWithCountry(request.PhaseCheckExistenceCountryCode, request.PhaseCheckExistenceValue, "phase_check_existence_country_code", "phase_check_existence_value");
        ValidateAppId(request.AppId);
        var lookup = await lookups.AdmitAsync(http, Errors, cancellationToken);
        // Why the taken answer goes through StartAndSendAsync: it is given only once the captcha the flow needs (if any)
        // is passed; until then a taken phone's flow waits for its captcha like a free one's (SECURITY 15), and the
        // step after UnlockSessionToken tells (InputCodeAsync). Nothing about the lookup is stored on the session: that
        // step reads the phone again, since an account may have come or gone in between.
        var taken = await accounts.PhoneTakenAsync(phone.E164, cancellationToken);
        var (_, token, sent) = await sender.StartAndSendAsync(PhasePurposes.Register, phone, null, http.ClientIpText(), ClientAddress.Of(http),
            CaptchaPlatform.Web, request.PhaseSessionValid, SmsPurpose.Register, Errors, taken ? ExistingMember() : null, lookup, cancellationToken);
        return new RegisterResponse
        {
            Phase = Phase.CheckExistence,
            NextPhase = Phase.InputCode,
            PhaseSessionToken = token,
            PhaseInputCodeResult = CodeResult.Ok,
            PhaseInputCodeTimeRemaining = sent.Seconds,
        };
    }

    private async Task<RegisterResponse> InputCodeAsync(RegisterRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var session = await OpenAsync(request.PhaseSessionToken, cancellationToken);

        // Why only a flow that never sent a code: every flow that can go on has sent one by now (at check-existence, or
        // when UnlockSessionToken passed its captcha); one that has not was held back because the phone is taken.
        if (session.CodesSent == 0 && await accounts.PhoneTakenAsync(session.PhoneE164!, cancellationToken))
        {
            throw ExistingMember();
        }

        var phone = new PhoneNumber(session.PhoneE164!, session.PhoneCountryCode, string.Empty);
        if (string.IsNullOrEmpty(request.PhaseInputCodeValue))
        {
            var resent = await sender.SendOrThrowAsync(session, phone, SmsPurpose.Register, ClientAddress.Of(http), Errors, request.PhaseSessionToken, cancellationToken);
            return new RegisterResponse
            {
                Phase = Phase.InputCode,
                NextPhase = Phase.InputCode,
                PhaseSessionToken = request.PhaseSessionToken,
                PhaseInputCodeResult = CodeResult.Resent,
                PhaseInputCodeTimeRemaining = resent.Seconds,
            };
        }

        // Why phase: the accepted code and the phase it completes are stored in one UPDATE.
        var check = await sessions.VerifyCodeAsync(session, request.PhaseInputCodeValue, cancellationToken, phase: (int)Phase.InputCode);
        if (check != CodeCheck.Accepted)
        {
            throw Errors.CodeInvalid(check);
        }
        return new RegisterResponse
        {
            Phase = Phase.InputCode,
            NextPhase = Phase.InputName,
            PhaseSessionToken = request.PhaseSessionToken,
            PhaseInputCodeResult = CodeResult.Ok,
        };
    }

    private async Task<RegisterResponse> InputNameAsync(RegisterRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var session = await OpenAsync(request.PhaseSessionToken, cancellationToken);
        if (session.CodeVerifiedAt is null)
        {
            throw Errors.SessionInvalid();
        }

        var problem = DisplayNameRules.Check(request.PhaseInputNameValue);
        if (problem != DisplayNameProblem.None)
        {
            var why = MemberServiceV2Endpoint.Describe(problem);
            throw PanError.Of(E.NameInvalid, StatusCode.InvalidArgument, why, new FieldViolation("phase_input_name_value", why));
        }

        if (await names.IsTakenAsync(request.PhaseInputNameValue, cancellationToken))
        {
            throw PanError.Of(E.NameExisting, StatusCode.AlreadyExists, "The display name is taken.");
        }

        var now = clock.GetUtcNow();
        var name = DisplayNameRules.Clean(request.PhaseInputNameValue);
        var account = new Account { PhoneE164 = session.PhoneE164, PhoneCountryCode = session.PhoneCountryCode };
        var member = new Member
        {
            DisplayName = name,
            DisplayNameKey = DisplayNameRules.Key(name),
            IsOwner = true,
            MigrationStatus = (int)MemberMigrationStatusResponse.Types.MigrationStatus.StatusNewPan,
            ActivateIp = http.ClientIpText(),
            ActivateDate = now,
            Locale = Locales.ForCountry(session.PhoneCountryCode),
        };

        // Why one transaction: finishing the flow, creating the account with its first member and opening the auth
        // session are one operation (SECURITY 21). A taken phone or name (the database's unique indexes decide races)
        // or any other failure rolls all of it back, so the flow stays open for another try; one commit.
        IssuedToken auth;
        try
        {
            auth = (await tokens.IssueAuthTokenAsync(AuthMethods.Phone, async ct =>
            {
                if (!await sessions.CompleteAsync(session, ct))
                {
                    throw Errors.RetryRequired("This sign-up has already finished; start again to sign in.");
                }

                // Why the number is held: a block of it in flight on any node is waited for and then seen, and a
                // conversion naming an apinode account by it waits for this sign-up and then sees its account (PhoneClaims).
                await PhoneClaims.HoldAsync(db, session.PhoneE164!, ct);

                // Why here: the code may have been texted before an operator blocked the number; the account is not made.
                await PhoneBlocks.PhoneBlocks.RefuseAsync(db, session.PhoneE164, now, ct);

                return AuthSubject.Of(await creator.CreateAsync(account, member, ct));
            }, cancellationToken))!;
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var what))
        {
            throw DbErrors.Concerns(what, "ux_accounts_phone", "phone_e164")
                ? ExistingMember()
                : PanError.Of(E.NameExisting, StatusCode.AlreadyExists, "The display name is taken.");
        }

        metrics.Registration("phone");
        return new RegisterResponse
        {
            Phase = Phase.InputName,
            NextPhase = Phase.Done,
            PhaseSessionToken = request.PhaseSessionToken,
            PhaseDoneAuthToken = auth.Token,
        };
    }

    private async Task<PhaseSession> OpenAsync(string token, CancellationToken cancellationToken)
    {
        var session = await sessions.FindAsync(token, PhasePurposes.Register, cancellationToken) ?? throw Errors.SessionInvalid();
        if (session.CompletedAt is not null)
        {
            throw Errors.RetryRequired("This sign-up has already finished.");
        }

        if (PhaseSessionStore.HeldForCaptcha(session))
        {
            throw Errors.CaptchaRequired(token);
        }

        return session;
    }

    private static RpcException ExistingMember() =>
        PanError.Of(E.ExistingMember, StatusCode.AlreadyExists, "This phone already has an account; sign in instead.");

    internal static void ValidateAppId(string appId)
    {
        if (!string.IsNullOrEmpty(appId) && AppIds.Normalize(appId) is null)
        {
            throw PanError.InvalidArgument("app_id", "is not a known app");
        }
    }
}
