using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;
using Pan.Data.Members;
using Pan.General.Member;
using Pan.Server.Deletion;
using Pan.Server.Email;
using Pan.Server.Errors;
using Pan.Server.Links;
using Pan.Server.Network;
using SendErr = Pan.General.Member.AuthResetVerifyEmailResponse.Types.Err;
using CodeErr = Pan.General.Member.AuthResetVerifyEmailCodeResponse.Types.Err;

namespace Pan.Server.Recovery;

/// <summary>
/// Password reset by email. AuthResetVerifyEmail (captcha, caps) queues a mail with a code and a link to
/// /account/reset-password when display name + email name a live member with that verified address — and answers the
/// same, queuing nothing, when they do not (SECURITY 15). Neither path talks to SMTP: the outbox sends the mail
/// (<see cref="MailOutboxSender"/>), so the answer neither waits for the relay nor fails with it.
/// AuthResetVerifyEmailCode trades the code alone for an auth_reset_token.
/// </summary>
/// <remarks>
/// Readings: a refused captcha is ErrSessionInvalid (the seed has no captcha value here). <c>redirect_email</c> is the
/// client's own page for typing the code; the mail shows it next to the code (it carries no secret). <c>redirect_success</c>
/// is stored with the challenge; the hosted page links there after a successful reset. The caps count the request,
/// not the send (a queued mail's reservation is Queued, then Sent or Failed when the outbox is done with it), keyed
/// by the submitted address and the client, so a known and an unknown address meet the same limits.
/// </remarks>
public sealed class EmailRecovery(
    RecoveryCaptcha captcha,
    RecoveryMembers members,
    LinkBuilder links,
    DeliveryGate gate,
    EmailCodes codes,
    MailOutbox outbox,
    PanDbContext db,
    ResetGrants grants)
{
    public async Task<AuthResetVerifyEmailResponse> SendAsync(AuthResetVerifyEmailRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Email))
        {
            throw PanError.Of(SendErr.EmailRequired, StatusCode.InvalidArgument, "The email is required.", new FieldViolation("email", "is required"));
        }

        if (string.IsNullOrWhiteSpace(request.DisplayName))
        {
            throw PanError.Of(SendErr.DisplayNameRequired, StatusCode.InvalidArgument, "The display name is required.", new FieldViolation("display_name", "is required"));
        }

        var address = EmailAddresses.Normalize(request.Email) ?? throw PanError.InvalidArgument("email", "is not a valid email address");
        if (request.DisplayName.Length > RecoveryMembers.MaxDisplayNameLength)
        {
            throw PanError.InvalidArgument("display_name", "is too long");
        }

        var inputPage = links.Redirect(request.RedirectEmail, "redirect_email");
        var success = links.Redirect(request.RedirectSuccess, "redirect_success");
        if (!await captcha.PassesAsync(request.RecaptchaToken, cancellationToken))
        {
            throw PanError.Of(SendErr.SessionInvalid, StatusCode.PermissionDenied, "The reCAPTCHA token was not accepted.");
        }

        var reservation = await gate.ReserveAsync(DeliveryPurposes.Reset, null, EmailAddresses.Hash(address), ClientAddress.Of(http), cancellationToken);
        if (!reservation.Allowed)
        {
            throw PanError.With(SendErr.ReachSendLimit, StatusCode.ResourceExhausted,
                $"Too many reset requests; try again in {reservation.RetryAfterSeconds} s.", new Dictionary<string, string>(), reservation.RetryAfterSeconds);
        }

        var member = await members.ByEmailAsync(address, request.DisplayName, cancellationToken);
        if (member is null)
        {
            await DeliveryGate.RecordAloneAsync(db, reservation, DeliveryOutcome.Skipped);
            return new AuthResetVerifyEmailResponse();
        }

        if (await QueueAsync(member, reservation, inputPage, success, cancellationToken))
        {
            outbox.Wake();
        }

        return new AuthResetVerifyEmailResponse();
    }

    /// <summary>
    /// Issues the reset code of <paramref name="member"/> (found by <see cref="SendAsync"/> before this transaction) and
    /// queues its mail; true when queued. False, with nothing written and the reservation recorded Skipped (as for a
    /// request that matched nobody), when the member was deleted since it was found. Call <see cref="MailOutbox.Wake"/> after a true.
    /// </summary>
    internal async Task<bool> QueueAsync(Member member, DeliveryReservation reservation, Uri? inputPage, Uri? success, CancellationToken cancellationToken)
    {
        var committed = false;
        try
        {
            // Why queued, not sent: waiting for SMTP here would make a matched request slower than an unmatched one,
            // and an SMTP outage would fail only matched requests — both tell that the account exists (SECURITY 15).
            // Code, outbox row and the reservation's outcome commit together (SECURITY 21); the outbox sends the mail.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Why the lock, first: the member was found before this transaction, and a deletion may have committed
            // since — its erasers then found nothing of this reset to give up. Under the member's row lock either the
            // deletion commits first and nothing is written here (the caller answers as for a request that matched
            // nobody, and the reservation is recorded alike), or this commits first and the deletion's erasers give the
            // queued mail up. The outbox's sender checks the member again before sending (OutboxSender).
            var live = await LiveMembers.LockAsync(db, member.Uid, cancellationToken);
            if (live)
            {
                var issued = await codes.IssueAsync(member.Uid, EmailPurposes.Reset, member.EmailKey!, success, cancellationToken);
                var model = new EmailModel(member.DisplayName, issued.Code, links.Page(PagePaths.ResetPassword, issued.LinkToken), inputPage, codes.Minutes);
                await outbox.EnqueueAsync(
                    new QueuedMail(member.Uid, EmailKind.ResetPassword, member.Email!, member.DisplayName, member.Locale, model, issued.Expires, reservation.Id),
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

    public async Task<AuthResetVerifyEmailCodeResponse> VerifyCodeAsync(AuthResetVerifyEmailCodeRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Code))
        {
            throw PanError.Of(CodeErr.CodeInvalid, StatusCode.InvalidArgument, "The code is required.", new FieldViolation("code", "is required"));
        }

        var challenge = await codes.FindByCodeAsync(request.Code, EmailPurposes.Reset, cancellationToken);
        if (challenge is null || !await members.StillHasAsync(challenge, cancellationToken))
        {
            throw CodeInvalid();
        }

        // Why one transaction (SECURITY 21): the code is spent only with the auth_reset_token it buys; a failure storing
        // the token leaves the code usable, so the member types it again instead of asking for a new mail.
        // Why the member is held first: it was read before, and its deletion may have committed since or (PostgreSQL) be
        // running still; a token stored then outlived the deletion's erasers. Held, either the deletion commits first and
        // nothing is spent or issued (the answer for a gone member's code), or this commits first and the deletion
        // erases the token.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveMembers.HoldAsync(db, challenge.Uid, cancellationToken) || !await codes.ConsumeAsync(challenge, cancellationToken))
        {
            throw CodeInvalid();
        }

        var token = await grants.IssueAsync(challenge.Uid, ResetChannels.Email, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new AuthResetVerifyEmailCodeResponse { AuthResetToken = token };
    }

    private static RpcException CodeInvalid() =>
        PanError.Of(CodeErr.CodeInvalid, StatusCode.InvalidArgument, "The code is wrong, expired or already used.",
            new FieldViolation("code", "is wrong, expired or already used"));
}
