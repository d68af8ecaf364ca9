using System.Net;
using Microsoft.Extensions.Options;
using Grpc.Core;
using Pan.Data;
using Pan.Data.PhaseSessions;
using Pan.Server.Captcha;
using Pan.Server.Deletion;
using Pan.Server.Phones;
using Pan.Server.Sms;

namespace Pan.Server.PhaseSessions;

/// <summary>Why a code did not go out.</summary>
public enum SendFailure
{
    None,
    CaptchaRequired,
    CoolingDown,
    SessionExhausted,
    Blocked,

    /// <summary>The flow's member is deleted; the flow is gone with it (<see cref="CodeIssue.MemberGone"/>).</summary>
    MemberGone,
}

/// <summary>The result of asking for a code: sent (with the cool-down before the next), or why not.</summary>
public sealed record SendOutcome(SendFailure Failure, int Seconds, bool Resent)
{
    public bool Sent => Failure == SendFailure.None;
}

/// <summary>
/// The member a new flow was started for was deleted before the flow's first code was issued
/// (<see cref="PhoneCodeSender.StartAndSendAsync"/>): nothing was written or sent, and the caller looks the phone up again.
/// </summary>
public sealed class FlowMemberGoneException() : Exception("The flow's member was deleted before its first code was issued.");

/// <summary>
/// Sends a flow's one-time code by SMS: refuses while the flow waits for its captcha, honours the resend cool-down,
/// then goes through the SMS gate (allow-list and caps). Shared by every phased flow.
/// </summary>
public sealed class PhoneCodeSender(
    PanDbContext db, PhaseSessionStore store, SmsGate sms, CaptchaVerifier captcha, ILogger<PhoneCodeSender> logger, Metrics.PanMetrics metrics, IOptions<SmsOptions> smsOptions)
{
    /// <summary>Whether a new flow for <paramref name="phone"/> must pass a captcha before any code is sent.</summary>
    /// <param name="lookup">
    /// For a check-existence step, its admission (<see cref="PhoneLookupLimit.AdmitAsync"/>): in mode risk an address
    /// past <c>Pan:PhoneLookups:CaptchaAfterPerIpPerHour</c> lookups this hour needs the captcha like a risky send.
    /// </param>
    public async Task<bool> CaptchaNeededAsync(
        PhoneNumber phone, IPAddress? clientIp, PhoneLookupAdmission? lookup, CancellationToken cancellationToken) =>
        captcha.Mode switch
        {
            CaptchaMode.Always => true,
            // Why the lookup count first: it is already known (no query), and past it the SMS rules need not be read.
            CaptchaMode.Risk => lookup is { PastCaptchaThreshold: true } || await sms.IsRiskyAsync(phone, clientIp, cancellationToken),
            _ => false,
        };

    /// <summary>Verifies a captcha token for the session; true when it passed (and records that).</summary>
    public async Task<bool> TryPassCaptchaAsync(PhaseSession session, CaptchaPlatform platform, string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 8192)
        {
            return false;
        }

        var passed = await captcha.VerifyAsync(platform, token, cancellationToken);
        if (passed)
        {
            await store.SetCaptchaAsync(session, session.CaptchaRequired, passed: true, cancellationToken);
        }

        return passed;
    }

    /// <summary>Counts a code held back until the flow passes its captcha (<c>pan.sms.sends</c>, outcome captcha_required).</summary>
    private void CountCaptchaRequired() => metrics.SmsSend("captcha_required", "none", smsOptions.Value.Provider ?? "none");

    public async Task<SendOutcome> SendAsync(PhaseSession session, PhoneNumber phone, SmsPurpose purpose, IPAddress? clientIp, CancellationToken cancellationToken)
    {
        if (session.CaptchaRequired && !session.CaptchaPassed)
        {
            CountCaptchaRequired();
            return new SendOutcome(SendFailure.CaptchaRequired, 0, false);
        }

        var issue = await store.IssueCodeAsync(session, cancellationToken);
        if (issue.MemberGone)
        {
            return new SendOutcome(SendFailure.MemberGone, 0, false);
        }

        if (!issue.Issued)
        {
            return issue.SessionExhausted
                ? new SendOutcome(SendFailure.SessionExhausted, issue.CooldownSeconds, false)
                : new SendOutcome(SendFailure.CoolingDown, issue.CooldownSeconds, false);
        }

        var result = await sms.SendAsync(phone, Text(issue.Code!, phone, store.CodeMinutes), purpose, clientIp, cancellationToken);
        RefuseBlocked(result);
        if (!result.Sent)
        {
            logger.LogWarning("Code for {Purpose} to …{PhoneSuffix} blocked: {Reason}", purpose, phone.Suffix, result.Blocked);
            return new SendOutcome(SendFailure.Blocked, 0, false);
        }

        if (session.CaptchaPassed)
        {
            // Why: a passed captcha pays for one send; a later resend is judged by the risk rules again (SendOrThrowAsync).
            await store.SetCaptchaAsync(session, required: false, passed: false, cancellationToken);
        }

        return new SendOutcome(SendFailure.None, issue.CooldownSeconds, session.CodesSent > 1);
    }

    /// <summary>
    /// Makes a new flow pass its captcha when the mode or the risk rules ask for one: the captcha token the client sent
    /// with the step (<paramref name="captchaToken"/>) may pass it at once; otherwise the flow stays locked and the
    /// caller gets the flow's GENERAL_RECAPTCHA_FAILED carrying <paramref name="sessionToken"/> for UnlockSessionToken.
    /// </summary>
    public async Task RequireCaptchaIfNeededAsync(
        PhaseSession session, PhoneNumber phone, IPAddress? clientIp, CaptchaPlatform platform, string? captchaToken,
        FlowErrors errors, string sessionToken, CancellationToken cancellationToken)
    {
        if (!await CaptchaNeededAsync(phone, clientIp, lookup: null, cancellationToken))
        {
            return;
        }

        await store.SetCaptchaAsync(session, required: true, passed: false, cancellationToken);
        if (!await TryPassCaptchaAsync(session, platform, captchaToken, cancellationToken))
        {
            throw errors.CaptchaRequired(sessionToken);
        }
    }

    /// <summary>
    /// Starts a phone flow and sends its first code: the same steps as <see cref="PhaseSessionStore.StartAsync(string, PhoneNumber?, long?, string?, CancellationToken)"/>,
    /// <see cref="RequireCaptchaIfNeededAsync"/> and <see cref="SendOrThrowAsync"/>, with fewer writes. The captcha
    /// decision comes first, so the session is inserted already waiting for its captcha, or already holding its first
    /// code (a new session has no cool-down and has sent nothing, so the code is issued as IssueCodeAsync would) and
    /// committed together with that code's SMS log row and counts (<see cref="SmsGate.ReserveAsync{T}"/>).
    /// </summary>
    /// <param name="cannotContinue">
    /// The flow's answer when the lookup found it cannot go on (Login: no member; Register: the phone is taken), or null.
    /// Why it is passed in rather than thrown by the caller: it tells whether the phone has an account, so it is given
    /// only once the captcha the flow needs (if any) is passed. Until then the flow is started and left waiting for its
    /// captcha exactly as one that can continue (SECURITY 15); its next step tells after UnlockSessionToken.
    /// </param>
    /// <param name="lookup">The check-existence step's admission by <see cref="PhoneLookupLimit"/> (mode risk counts it).</param>
    /// <returns>The session, the token for the client, and the sent code's outcome.</returns>
    /// <exception cref="FlowMemberGoneException">
    /// Member <paramref name="uid"/> was deleted after the caller found it; nothing was written or sent.
    /// </exception>
    public async Task<(PhaseSession Session, string Token, SendOutcome Sent)> StartAndSendAsync(
        string flowPurpose, PhoneNumber phone, long? uid, string? clientIpText, IPAddress? clientIp, CaptchaPlatform platform,
        string? captchaToken, SmsPurpose purpose, FlowErrors errors, RpcException? cannotContinue, PhoneLookupAdmission lookup,
        CancellationToken cancellationToken)
    {
        if (await CaptchaNeededAsync(phone, clientIp, lookup, cancellationToken))
        {
            var (locked, lockedToken, _) = await store.StartAsync(flowPurpose, phone, uid, clientIpText, captchaRequired: true, withCode: false, cancellationToken);
            if (!await TryPassCaptchaAsync(locked, platform, captchaToken, cancellationToken))
            {
                CountCaptchaRequired();
                throw errors.CaptchaRequired(lockedToken);
            }

            if (cannotContinue is not null)
            {
                throw cannotContinue;
            }

            return (locked, lockedToken, await SendOrThrowAsync(locked, phone, purpose, clientIp, errors, lockedToken, cancellationToken));
        }

        if (cannotContinue is not null)
        {
            throw cannotContinue;
        }

        // Why reserved with the session: the session's INSERT and the send's log row and counts are one commit (not two;
        // a session holding a code never exists without its send on record). The caps are summed after that commit.
        // Why the member is held first: it was found before this transaction, and a deletion may have committed since
        // or (PostgreSQL) be running still; its erasers would then not see this session, and the code would be texted
        // for a member that is gone. Held, either the deletion ends first and nothing is written (the caller looks the
        // phone up again), or this commits first and the deletion's erasers remove the session and its code.
        var ((session, token, code), reservation) = await sms.ReserveAsync(
            phone, purpose, clientIp,
            async ct =>
            {
                if (uid is { } member && !await LiveMembers.HoldAsync(db, member, ct))
                {
                    throw new FlowMemberGoneException();
                }

                return await store.StartAsync(flowPurpose, phone, uid, clientIpText, captchaRequired: false, withCode: true, ct);
            },
            cancellationToken);
        var result = await sms.SendReservedAsync(reservation, Text(code!, phone, store.CodeMinutes), cancellationToken);
        RefuseBlocked(result);
        if (!result.Sent)
        {
            logger.LogWarning("Code for {Purpose} to …{PhoneSuffix} blocked: {Reason}", purpose, phone.Suffix, result.Blocked);
            throw errors.CodePending10();
        }

        return (session, token, new SendOutcome(SendFailure.None, store.ResendCooldownSeconds, false));
    }

    /// <summary>Sends the flow's code, or throws the flow's error for why it could not go out.</summary>
    /// <remarks>
    /// A resend (the flow already sent a code) in captcha mode risk is a send like a flow's first: when the phone or the
    /// client address trips the risk rules, the flow waits for a captcha again (GENERAL_RECAPTCHA_FAILED with
    /// <paramref name="sessionToken"/>), and UnlockSessionToken sends the code. Why: otherwise a flow started before the
    /// rules tripped sent up to <c>Pan:Codes:MaxCodesPerSession</c> codes to a risky number without a captcha (SECURITY 8).
    /// Each captcha pays for one send. Mode always asks its captcha once per flow, as before; mode off never.
    /// </remarks>
    public async Task<SendOutcome> SendOrThrowAsync(
        PhaseSession session, PhoneNumber phone, SmsPurpose purpose, IPAddress? clientIp, FlowErrors errors, string? sessionToken,
        CancellationToken cancellationToken)
    {
        if (session.CodesSent > 0 && !session.CaptchaPassed && captcha.Mode == CaptchaMode.Risk
            && CooldownOver(session) && await sms.IsRiskyAsync(phone, clientIp, cancellationToken))
        {
            await store.SetCaptchaAsync(session, required: true, passed: false, cancellationToken);
        }

        var outcome = await SendAsync(session, phone, purpose, clientIp, cancellationToken);
        return outcome.Failure switch
        {
            SendFailure.None => outcome,
            SendFailure.CaptchaRequired => throw errors.CaptchaRequired(sessionToken),
            SendFailure.CoolingDown => throw errors.CodePending(outcome.Seconds),
            // Why SESSION_INVALID: the flow died with its member; its next step would find no session either.
            SendFailure.MemberGone => throw errors.SessionInvalid(),
            _ => throw errors.CodePending10(),
        };
    }

    /// <summary>
    /// Refuses a flow whose number an operator blocked (<see cref="PhoneBlocks.PhoneBlockedException"/>, answered
    /// PERMISSION_DENIED PHONE_BLOCKED): unlike a cap, waiting does not help, and blocking is not secret to the number's owner.
    /// </summary>
    private static void RefuseBlocked(SmsSendResult result)
    {
        if (result.Blocked == SmsBlockReason.PhoneBlocked)
        {
            throw new PhoneBlocks.PhoneBlockedException();
        }
    }

    /// <summary>Whether the flow could send now as far as its own limits go (a resend refused for them needs no captcha).</summary>
    private bool CooldownOver(PhaseSession session) =>
        store.CooldownRemaining(session) == 0 && session.CodesSent < store.MaxCodesPerSession;

    /// <summary>The SMS text, saying the code's lifetime (<c>Pan:Codes:CodeMinutes</c>); Traditional Chinese for Taiwan, Hong Kong and Macau numbers, English elsewhere.</summary>
    public static string Text(string code, PhoneNumber phone, int minutes) => phone.CountryCode is 886 or 852 or 853
        ? $"【Pan】您的驗證碼為 {code}，{minutes} 分鐘內有效。請勿將驗證碼告訴他人。"
        : $"[Pan] Your verification code is {code}. It expires in {minutes} minutes. Never share it.";
}
