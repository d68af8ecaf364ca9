using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Pan.Data;
using Pan.Data.Email;
using Pan.Data.Members;
using Pan.General.Member;
using Pan.Server.Accounts;
using Pan.Server.BruteForce;
using Pan.Server.Deletion;
using Pan.Server.Email;
using Pan.Server.Errors;
using Pan.Server.Network;
using Pan.Server.PhaseSessions;
using Pan.Server.Phones;
using Pan.Server.Sms;
using SendErr = Pan.General.Member.AuthResetVerifyPhoneResponse.Types.Err;
using CodeErr = Pan.General.Member.AuthResetVerifyPhoneCodeResponse.Types.Err;

namespace Pan.Server.Recovery;

/// <summary>
/// Password reset by phone. AuthResetVerifyPhone (captcha, caps) queues a text with a 6-digit code (purpose Reset) when
/// display name + phone name a live member — and answers the same, queuing nothing, when they do not (SECURITY 15).
/// Neither path talks to the SMS provider: the outbox sends the text through the SMS gate (<see cref="SmsOutboxSender"/>),
/// so the answer neither waits for the provider, nor fails with it, nor tells that the gate's caps blocked the text.
/// AuthResetVerifyPhoneCode checks the code of that member's newest reset flow (5 wrong tries kill it; each wrong try
/// also counts toward the member's failure counter, and a locked member is answered like a wrong code) and returns an
/// auth_reset_token. Phones are in E.164 form ("+886912345678"): the requests carry no country code.
/// </summary>
public sealed class PhoneRecovery(
    PhoneNumbers phones,
    RecoveryCaptcha captcha,
    RecoveryMembers members,
    DeliveryGate gate,
    PhaseSessionStore sessions,
    SmsOutbox outbox,
    PanDbContext db,
    FailureCounter failures,
    ResetGrants grants,
    TimeProvider clock)
{
    /// <summary>The phase-session purpose of a reset by phone.</summary>
    public const string SessionPurpose = "reset-phone";

    public async Task<AuthResetVerifyPhoneResponse> SendAsync(AuthResetVerifyPhoneRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Phone))
        {
            throw PanError.Of(SendErr.PhoneRequired, StatusCode.InvalidArgument, "The phone is required.", new FieldViolation("phone", "is required"));
        }

        if (string.IsNullOrWhiteSpace(request.DisplayName))
        {
            throw PanError.Of(SendErr.DisplayNameRequired, StatusCode.InvalidArgument, "The display name is required.", new FieldViolation("display_name", "is required"));
        }

        var phone = phones.SmsDestination(null, request.Phone, "phone", InvalidPhone);
        CheckName(request.DisplayName, "display_name");
        if (!await captcha.PassesAsync(request.RecaptchaToken, cancellationToken))
        {
            throw PanError.Of(SendErr.SessionInvalid, StatusCode.PermissionDenied, "The reCAPTCHA token was not accepted.");
        }

        var ip = ClientAddress.Of(http);
        var reservation = await gate.ReserveAsync(DeliveryPurposes.ResetPhone, null, SHA256.HashData(Encoding.UTF8.GetBytes(phone.E164)), ip, cancellationToken);
        if (!reservation.Allowed)
        {
            throw SendLimit(reservation.RetryAfterSeconds);
        }

        var member = await members.ByPhoneAsync(phone, request.DisplayName, cancellationToken);
        if (member is null)
        {
            await DeliveryGate.RecordAloneAsync(db, reservation, DeliveryOutcome.Skipped);
            return new AuthResetVerifyPhoneResponse();
        }

        if (await QueueAsync(member, phone, reservation, ip, cancellationToken))
        {
            outbox.Wake();
        }

        return new AuthResetVerifyPhoneResponse();
    }

    /// <summary>
    /// Starts the reset flow of <paramref name="member"/> (found by <see cref="SendAsync"/> before this transaction) with
    /// a code and queues its text to <paramref name="phone"/>; true when queued. False, with nothing written and the
    /// reservation recorded Skipped (as for a request that matched nobody), when the member was deleted since it was
    /// found. Call <see cref="SmsOutbox.Wake"/> after a true.
    /// </summary>
    internal async Task<bool> QueueAsync(Member member, PhoneNumber phone, DeliveryReservation reservation, IPAddress? ip, CancellationToken cancellationToken)
    {
        var committed = false;
        try
        {
            // Why queued, not sent: sending here made a matched request slower than an unmatched one, and the SMS gate's
            // caps (RESOURCE_EXHAUSTED) or a provider outage (UNAVAILABLE) failed only matched requests — each told that
            // the account exists (SECURITY 15). The flow with its code, the outbox row and the reservation's outcome
            // commit together (SECURITY 21); the outbox sends through the SMS gate, whose caps still apply there.
            // Why a new flow per request: verification reads the newest one, so a resend kills the previous code.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Why the lock, first: the member was found before this transaction, and a deletion may have committed
            // since — its erasers then found nothing of this reset to give up. Under the member's row lock either the
            // deletion commits first and nothing is written here (the caller answers as for a request that matched
            // nobody, and the reservation is recorded alike), or this commits first and the deletion's erasers give the
            // queued text up. The outbox's sender checks the member again before sending (OutboxSender).
            var live = await LiveMembers.LockAsync(db, member.Uid, cancellationToken);
            if (live)
            {
                var (session, _, code) = await sessions.StartAsync(
                    SessionPurpose, phone, member.Uid, ip?.ToString(), captchaRequired: false, withCode: true, cancellationToken);
                await outbox.EnqueueAsync(
                    new QueuedSms(member.Uid, SmsOutbox.ResetPassword, phone, Text(code!, member.Locale, sessions.CodeMinutes), SmsPurpose.Reset, ip, session.CodeExpires!.Value, reservation.Id),
                    cancellationToken);
            }

            await DeliveryGate.RecordWithinAsync(db, reservation, live ? DeliveryOutcome.Queued : DeliveryOutcome.Skipped, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            committed = true;
            return live;
        }
        finally
        {
            if (!committed)
            {
                await gate.FinishAsync(reservation, DeliveryOutcome.Failed);
            }
        }
    }

    public async Task<AuthResetVerifyPhoneCodeResponse> VerifyCodeAsync(AuthResetVerifyPhoneCodeRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Code))
        {
            throw PanError.Of(CodeErr.CodeInvalid, StatusCode.InvalidArgument, "The code is required.", new FieldViolation("code", "is required"));
        }

        if (string.IsNullOrWhiteSpace(request.Phone))
        {
            throw PanError.InvalidArgument("phone", "is required");
        }

        if (string.IsNullOrWhiteSpace(request.DisplayName))
        {
            throw PanError.InvalidArgument("displayName", "is required");
        }

        // Why Parse: the code was texted to this number already; only the send step checks that a number takes SMS.
        var phone = phones.Parse(null, request.Phone) ?? throw PanError.InvalidArgument("phone", InvalidPhone);
        CheckName(request.DisplayName, "displayName");
        // Why: a code texted before an operator blocked the number would otherwise still buy a password reset, a way
        // into the account by the number alone, as a phone sign-in is (PhoneBlocks). Why before the member is looked up:
        // the answer is the same whether the display name matches or not (SECURITY 15); blocking is not secret to the
        // number's owner. The code is not spent.
        await PhoneBlocks.PhoneBlocks.RefuseAsync(db, phone.E164, clock.GetUtcNow(), cancellationToken);
        var member = await members.ByPhoneAsync(phone, request.DisplayName, cancellationToken);
        if (member is null || (await failures.StateAsync(member.Uid, cancellationToken)).Locked)
        {
            throw CodeInvalid();
        }

        // Why the newest request's flow only, finished or not: each request killed the code of the one before, and a
        // finished flow's code is spent (no failure counted for it, as before).
        var session = await sessions.FindLatestAsync(member.Uid, SessionPurpose, cancellationToken);
        if (session is null || session.CompletedAt is not null)
        {
            throw CodeInvalid();
        }

        // Why one transaction (SECURITY 21): the code is accepted and the flow finished only with the auth_reset_token
        // they buy; a failure storing the token leaves the code usable. A wrong code's counted try commits as before.
        // Why the member is held first: it was read before, and its deletion may have committed since or (PostgreSQL) be
        // running still; a token stored then outlived the deletion's erasers. Held, either the deletion commits first and
        // nothing is accepted or issued (the answer for a gone member), or this commits first and the deletion erases
        // the token.
        CodeCheck check;
        string? token = null;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            if (!await LiveMembers.HoldAsync(db, member.Uid, cancellationToken))
            {
                throw CodeInvalid();
            }

            check = await sessions.VerifyCodeAsync(session, request.Code, cancellationToken, complete: true);
            if (check == CodeCheck.Accepted)
            {
                token = await grants.IssueAsync(member.Uid, ResetChannels.Phone, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        if (check != CodeCheck.Accepted)
        {
            if (check.IsGuess())
            {
                await failures.RecordFailureAsync(member.Uid, cancellationToken);
            }

            throw CodeInvalid();
        }

        return new AuthResetVerifyPhoneCodeResponse { AuthResetToken = token };
    }

    /// <summary>The reset SMS, in the member's language, saying the code's lifetime (<c>Pan:Codes:CodeMinutes</c>).</summary>
    public static string Text(string code, string locale, int minutes) => locale == Locales.TraditionalChinese
        ? $"【Pan】您的密碼重設驗證碼為 {code}，{minutes} 分鐘內有效。請勿將驗證碼告訴他人。"
        : $"[Pan] Your password reset code is {code}. It expires in {minutes} minutes. Never share it.";

    private const string InvalidPhone = "must be a valid phone number in E.164 form (+886912345678)";

    private static void CheckName(string name, string field)
    {
        if (name.Length > RecoveryMembers.MaxDisplayNameLength)
        {
            throw PanError.InvalidArgument(field, "is too long");
        }
    }

    private static RpcException SendLimit(int seconds) =>
        PanError.With(SendErr.ReachSendLimit, StatusCode.ResourceExhausted, string.Create(CultureInfo.InvariantCulture, $"Too many reset requests; try again in {seconds} s."),
            new Dictionary<string, string>(), seconds);

    private static RpcException CodeInvalid() =>
        PanError.Of(CodeErr.CodeInvalid, StatusCode.InvalidArgument, "The code is wrong, expired or already used.",
            new FieldViolation("code", "is wrong, expired or already used"));
}
