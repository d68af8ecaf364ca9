using System.Net;
using Microsoft.Extensions.Options;
using Pan.Data.Email;
using Pan.Data.Members;
using Pan.Data.PhaseSessions;
using Pan.Server.Email;
using Pan.Server.PhaseSessions;

namespace Pan.Server.Login;

/// <summary>
/// Mails the one-time code of an EMAIL_OTC sign-in: the delivery caps first (per address, member and client, with the
/// cool-down), then a new 6-digit code of the flow (killing the previous one; the flow's own cool-down and send count
/// apply), then the mail. Refusals map to the login vocabulary: cool-down → CODE_PENDING (with RetryInfo), caps →
/// CODE_PENDING_10.
/// </summary>
public sealed class LoginCodeMailer(PhaseSessionStore sessions, DeliveryGate gate, Mailer mailer, IOptions<PhaseSessionOptions> options)
{
    /// <summary>
    /// Sends a code to the member's email; returns the seconds before another may be asked for, or null, with nothing
    /// sent, when the member was deleted meanwhile (the flow is then gone too).
    /// </summary>
    public async Task<int?> SendAsync(PhaseSession session, Member member, Uri? inputPage, IPAddress? clientIp, CancellationToken cancellationToken)
    {
        var address = member.Email!;
        var reservation = await gate.ReserveAsync(DeliveryPurposes.LoginCode, member.Uid, EmailAddresses.Hash(address), clientIp, cancellationToken);
        if (!reservation.Allowed)
        {
            throw reservation.Block == DeliveryBlock.Cooldown ? LoginFlow.Errors.CodePending(reservation.RetryAfterSeconds) : LoginFlow.Errors.CodePending10();
        }

        var outcome = DeliveryOutcome.Cancelled;
        try
        {
            var issue = await sessions.IssueCodeAsync(session, cancellationToken);
            if (issue.MemberGone)
            {
                return null;
            }

            if (!issue.Issued)
            {
                throw issue.SessionExhausted ? LoginFlow.Errors.CodePending10() : LoginFlow.Errors.CodePending(issue.CooldownSeconds);
            }

            outcome = DeliveryOutcome.Failed;
            var model = new EmailModel(member.DisplayName, issue.Code, null, inputPage, options.Value.CodeMinutes);
            await mailer.SendAsync(address, member.DisplayName, member.Locale, EmailKind.LoginCode, model, cancellationToken);
            outcome = DeliveryOutcome.Sent;
            return issue.CooldownSeconds;
        }
        finally
        {
            await gate.FinishAsync(reservation, outcome);
        }
    }
}
