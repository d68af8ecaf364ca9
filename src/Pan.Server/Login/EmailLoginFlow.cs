using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Members;
using Pan.Data.PhaseSessions;
using Pan.General.Member;
using Pan.Server.BruteForce;
using Pan.Server.Captcha;
using Pan.Server.Credentials;
using Pan.Server.DisplayNames;
using Pan.Server.Email;
using Pan.Server.Errors;
using Pan.Server.Links;
using Pan.Server.Network;
using Pan.Server.PhaseSessions;
using Pan.Server.Registration;
using Pan.Server.Tokens;
using Phase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;
using ResponseLoginType = Pan.General.Member.LoginResponse.Types.LoginType;
using CodeResult = Pan.General.Member.LoginResponse.Types.CodeResult;
using E = Pan.General.Member.ErrLogin.Types.General;

namespace Pan.Server.Login;

/// <summary>
/// Sign-in by email. EMAIL: CHECK_EXISTENCE (email, or display name, in phase_check_existence_value) → INPUT_CODE
/// (password in phase_input_code_value) → DONE (auth-by-password). EMAIL_OTC: CHECK_EXISTENCE (a verified email; a
/// 6-digit code is mailed) → INPUT_CODE (the code; empty asks for a resend) → DONE (auth-by-email-code). Every phase
/// carries its login_type; a flow of one type is not accepted by another.
/// </summary>
/// <remarks>
/// <para>Security question: CHECK_EXISTENCE reports it (phase_check_existence_question); INPUT_CODE then needs the answer
/// in phase_input_code_ques_value (a missing answer is INVALID_ARGUMENT naming that field; phase_input_code_ques_index is
/// ignored: a member has one question) and DONE reports phase_input_ques_result OK.</para>
/// <para>Failures: a wrong password, code or answer, and a locked account, are all ErrLogin.CODE_INVALID with the same
/// text; wrong ones count toward the member's failure counter. A code accepted with a wrong answer is used up: ask for
/// a new one.</para>
/// <para>Existence: CHECK_EXISTENCE answers NOT_FOUND for an unknown email (its job is to tell), but only after the
/// captcha when <c>Pan:Captcha:Mode</c> is not off (a missing or refused captcha gets GENERAL_RECAPTCHA_FAILED with a
/// phase_session_token whether or not the email exists), and at most <c>Pan:Email:Limits:LookupsPerIpPerHour</c> times
/// per client address per hour (then CODE_PENDING_10).</para>
/// <para>link_to_input (EMAIL_OTC): the client's page where the code is typed; it must be on an allowed redirect host and
/// is shown in the code mail next to the code (it carries no secret). Each phase that sends a code uses its own.</para>
/// </remarks>
public sealed class EmailLoginFlow(
    PanDbContext db,
    PhaseSessionStore sessions,
    PhoneCodeSender captchas,
    CaptchaVerifier captcha,
    CredentialStore credentials,
    FailureCounter failures,
    LoginCodeMailer codeMailer,
    LinkBuilder links,
    TokenService tokens,
    IOptions<EmailLimitsOptions> limits,
    IOptions<PhaseSessionOptions> sessionOptions,
    TimeProvider clock,
    Metrics.PanMetrics metrics)
{
    public const string PasswordPurpose = "login-email";
    public const string CodePurpose = "login-email-otc";

    private static FlowErrors Errors => LoginFlow.Errors;

    public Task<LoginResponse> HandleAsync(LoginRequest request, HttpContext http, CancellationToken cancellationToken) => request.Phase switch
    {
        Phase.CheckExistence or Phase.AndroidDefault or Phase.IosDefault or Phase.AndroidEnterpise or Phase.IosEnterpise
            => CheckExistenceAsync(request, http, cancellationToken),
        Phase.InputCode => InputCodeAsync(request, http, cancellationToken),
        _ => throw PanError.InvalidArgument("phase", "must be PHASE_CHECK_EXISTENCE (or a platform variant) or PHASE_INPUT_CODE"),
    };

    private async Task<LoginResponse> CheckExistenceAsync(LoginRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var otc = request.LoginType == LoginType.EmailOtc;
        var inputPage = links.Redirect(request.LinkToInput, "link_to_input");
        RegisterFlow.ValidateAppId(request.AppId);
        var member = await FindAsync(request.PhaseCheckExistenceValue, otc, cancellationToken);
        await CheckLookupRateAsync(http, cancellationToken);

        var (session, token) = await sessions.StartAsync(otc ? CodePurpose : PasswordPurpose, null, member?.Uid, http.ClientIpText(), cancellationToken);
        if (captcha.Mode != CaptchaMode.Off)
        {
            await sessions.SetCaptchaAsync(session, required: true, passed: false, cancellationToken);
            if (!await captchas.TryPassCaptchaAsync(session, LoginFlow.PlatformOf(request.Phase), request.PhaseSessionValid, cancellationToken))
            {
                throw Errors.CaptchaRequired(token);
            }
        }

        if (member is null)
        {
            throw NotFound();
        }

        var response = new LoginResponse
        {
            Phase = request.Phase,
            NextPhase = Phase.InputCode,
            PhaseCheckExistenceLoginType = otc ? ResponseLoginType.EmailOtc : ResponseLoginType.Email,
            PhaseCheckExistenceQuestion = await credentials.SecurityQuestionAsync(member.Uid, cancellationToken) is not null,
            PhaseSessionToken = token,
        };
        if (otc)
        {
            response.PhaseInputCodeResult = CodeResult.Ok;
            // Why NOT_FOUND when the member was deleted since it was found: what this step answers for its address now.
            response.PhaseInputCodeTimeRemaining = await codeMailer.SendAsync(session, member, inputPage, ClientAddress.Of(http), cancellationToken)
                ?? throw NotFound();
        }

        return response;
    }

    private async Task<LoginResponse> InputCodeAsync(LoginRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var otc = request.LoginType == LoginType.EmailOtc;
        var session = await sessions.FindAsync(request.PhaseSessionToken, otc ? CodePurpose : PasswordPurpose, cancellationToken);
        if (session is null || session.CompletedAt is not null)
        {
            throw Errors.SessionInvalid();
        }

        if (PhaseSessionStore.HeldForCaptcha(session))
        {
            throw Errors.CaptchaRequired(request.PhaseSessionToken);
        }

        // Why: a flow opened for an unknown email only exists to keep CHECK_EXISTENCE silent before the captcha;
        // once the captcha is passed it may say so.
        var member = session.Uid is { } uid
            ? await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Uid == uid && m.Deleted == null, cancellationToken) ?? throw Errors.SessionInvalid()
            : throw NotFound();

        if (otc && string.IsNullOrEmpty(request.PhaseInputCodeValue))
        {
            if (member.Email is null || !member.EmailVerified)
            {
                throw Errors.SessionInvalid();
            }

            var inputPage = links.Redirect(request.LinkToInput, "link_to_input");
            var seconds = await codeMailer.SendAsync(session, member, inputPage, ClientAddress.Of(http), cancellationToken)
                ?? throw Errors.SessionInvalid();
            return new LoginResponse
            {
                Phase = Phase.InputCode,
                NextPhase = Phase.InputCode,
                PhaseCheckExistenceLoginType = ResponseLoginType.EmailOtc,
                PhaseInputCodeResult = CodeResult.Resent,
                PhaseInputCodeTimeRemaining = seconds,
                PhaseSessionToken = request.PhaseSessionToken,
            };
        }

        if (string.IsNullOrEmpty(request.PhaseInputCodeValue))
        {
            throw PanError.InvalidArgument("phase_input_code_value", "the password is required");
        }

        var question = await credentials.SecurityQuestionAsync(member.Uid, cancellationToken) is not null;
        if (question && string.IsNullOrWhiteSpace(request.PhaseInputCodeQuesValue))
        {
            throw PanError.InvalidArgument("phase_input_code_ques_value", "the answer to the security question is required");
        }

        var method = otc ? Metrics.SignInMethods.EmailCode : Metrics.SignInMethods.Password;
        // Why the password and the answer are one check: a right password alone must not clear the failure streak, or
        // whoever knows it would get unlimited guesses at the answer, each wrong one counted on a streak the password
        // had just cleared (SECURITY 5, 10). A mailed code clears nothing by itself, and each costs a mail.
        var result = otc
            ? await CheckCodeAsync(session, member.Uid, request.PhaseInputCodeValue, cancellationToken)
            : request.PhaseInputCodeValue.Length > Recovery.ResetCompletion.MaxPasswordLength
              ? SecretCheck.Wrong
              : question
                ? (await credentials.CheckPasswordAndAnswerAsync(member.Uid, request.PhaseInputCodeValue, request.PhaseInputCodeQuesValue, cancellationToken)).Result
                : await credentials.CheckPasswordAsync(member.Uid, request.PhaseInputCodeValue, cancellationToken);
        if (result != SecretCheck.Ok || (otc && question && !await AnswerAsync(member.Uid, request.PhaseInputCodeQuesValue, cancellationToken)))
        {
            metrics.SignIn(method, result == SecretCheck.Locked ? Metrics.SignInOutcomes.Locked : Metrics.SignInOutcomes.Wrong);
            throw Errors.CodeInvalid(CodeCheck.Wrong);
        }

        if (!await CompleteAsync(session, cancellationToken))
        {
            throw Errors.SessionInvalid();
        }

        await failures.ResetAsync(member.Uid, cancellationToken);
        var auth = await Metrics.SignIns.CountAsync(metrics, method,
            () => tokens.IssueAuthTokenAsync(member, otc ? AuthMethods.EmailCode : AuthMethods.Password, cancellationToken));
        metrics.SignIn(method, Metrics.SignInOutcomes.Ok);
        return new LoginResponse
        {
            Phase = Phase.InputCode,
            NextPhase = Phase.Done,
            PhaseCheckExistenceLoginType = otc ? ResponseLoginType.EmailOtc : ResponseLoginType.Email,
            PhaseCheckExistenceQuestion = question,
            PhaseInputCodeResult = CodeResult.Ok,
            PhaseInputQuesResult = question ? CodeResult.Ok : CodeResult.Default,
            PhaseDoneAuthToken = auth.Token,
            PhaseSessionToken = request.PhaseSessionToken,
        };
    }

    /// <summary>
    /// The member an email (or, for EMAIL, a display name) names. Why only a verified email names a member, for the
    /// password too: an unverified address may be held by several members (it reserves nothing), so it identifies none.
    /// </summary>
    private async Task<Member?> FindAsync(string value, bool otc, CancellationToken cancellationToken)
    {
        const string Field = "phase_check_existence_value";
        if (string.IsNullOrWhiteSpace(value))
        {
            throw PanError.InvalidArgument(Field, "the email is required");
        }

        if (value.Contains('@', StringComparison.Ordinal))
        {
            var key = EmailAddresses.Key(EmailAddresses.Normalize(value) ?? throw PanError.InvalidArgument(Field, "is not a valid email address"));
            return await db.Members.AsNoTracking()
                .FirstOrDefaultAsync(m => m.EmailKey == key && m.EmailVerified && m.Deleted == null, cancellationToken);
        }

        if (otc || value.Length > Recovery.RecoveryMembers.MaxDisplayNameLength)
        {
            throw PanError.InvalidArgument(Field, otc ? "must be an email address" : "is not a valid email address or display name");
        }

        var name = DisplayNameRules.Key(value);
        return await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.DisplayNameKey == name && m.Deleted == null, cancellationToken);
    }

    /// <summary>At most LookupsPerIpPerHour email sign-in flows per client address per hour (counted from phase sessions).</summary>
    private async Task CheckLookupRateAsync(HttpContext http, CancellationToken cancellationToken)
    {
        if (http.ClientIpText() is not { } ip)
        {
            return;
        }

        // Why Expires: a session expires SessionMinutes after it starts, and that column is indexed.
        var since = clock.GetUtcNow().AddHours(-1).AddMinutes(sessionOptions.Value.SessionMinutes);
        var count = await db.Set<PhaseSession>().CountAsync(
            s => s.Expires > since && s.ClientIp == ip && (s.Purpose == PasswordPurpose || s.Purpose == CodePurpose), cancellationToken);
        if (count >= limits.Value.LookupsPerIpPerHour)
        {
            metrics.EmailSend("capped", "lookup_ip_hour");
            metrics.LookupRefused("email");
            throw Errors.CodePending10();
        }
    }

    private async Task<SecretCheck> CheckCodeAsync(PhaseSession session, long uid, string code, CancellationToken cancellationToken)
    {
        if ((await failures.StateAsync(uid, cancellationToken)).Locked)
        {
            return SecretCheck.Locked;
        }

        var check = await sessions.VerifyCodeAsync(session, code, cancellationToken);
        if (check == CodeCheck.Accepted)
        {
            return SecretCheck.Ok;
        }

        if (check.IsGuess())
        {
            await failures.RecordFailureAsync(uid, cancellationToken);
        }

        return SecretCheck.Wrong;
    }

    private async Task<bool> AnswerAsync(long uid, string answer, CancellationToken cancellationToken) =>
        answer.Length <= Recovery.ResetCompletion.MaxAnswerLength
        && await credentials.CheckSecurityAnswerAsync(uid, answer, cancellationToken) == SecretCheck.Ok;

    /// <summary>Finishes the flow once (a password flow has no code, so PhaseSessionStore.CompleteAsync does not apply).</summary>
    private async Task<bool> CompleteAsync(PhaseSession session, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return await db.Set<PhaseSession>()
            .Where(s => s.Id == session.Id && s.CompletedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.CompletedAt, now), cancellationToken) == 1;
    }

    private static RpcException NotFound() => PanError.Of(E.NotFound, StatusCode.NotFound, "No member has this email; sign up or sign in by phone.");
}
