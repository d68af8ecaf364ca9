using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;
using Pan.Data.Members;
using Pan.Server.Data;
using Pan.Server.Errors;
using Pan.Server.Links;

namespace Pan.Server.Email;

/// <summary>The outcome of asking to set or change a member's email.</summary>
public enum EmailChangeResult
{
    Sent,
    Taken,
    InvalidEmail,
    RedirectNotAllowed,
}

/// <summary>
/// Setting or changing a member's email: checks no other member has verified it (case-insensitive), records it as
/// unverified, and mails a verification code and link built from the configured public base URL.
/// </summary>
/// <remarks>
/// Why only verified addresses count: an unverified address reserves nothing (ux_members_email_key is filtered on
/// email_verified), so a member who adds someone else's address without verifying it cannot lock its owner out; whoever
/// verifies first owns it (see EmailVerification).
/// The same address again (any case) while it is verified changes nothing and sends nothing; while unverified it resends.
/// A send refused by the caps throws RESOURCE_EXHAUSTED (reason EMAIL_SEND_LIMIT; the message says when to retry) before
/// anything changes.
/// When a verified address is replaced, the previous address gets an "email changed" notice. Call it outside a database
/// transaction: it commits its own (the address and the challenge together), its delivery log commits on its own, and
/// a mail cannot be rolled back.
/// </remarks>
public sealed class EmailChanges(
    PanDbContext db,
    LinkBuilder links,
    EmailCodes codes,
    DeliveryGate gate,
    Mailer mailer,
    EmailNotices notices,
    TimeProvider clock)
{
    public async Task<EmailChangeResult> RequestAsync(long uid, string email, string? redirect, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            throw new InvalidOperationException("EmailChanges.RequestAsync must be called outside a database transaction.");
        }

        if (EmailAddresses.Normalize(email) is not { } address)
        {
            return EmailChangeResult.InvalidEmail;
        }

        if (!links.TryRedirect(redirect, out var target))
        {
            return EmailChangeResult.RedirectNotAllowed;
        }

        var key = EmailAddresses.Key(address);
        var member = await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Uid == uid && m.Deleted == null, cancellationToken)
            ?? throw PanError.Plain(StatusCode.NotFound, "NOT_FOUND", "The member does not exist.");
        if (member.EmailKey == key && member.EmailVerified)
        {
            return EmailChangeResult.Sent;
        }

        if (await EmailAddresses.OwnedByAnotherAsync(db.Members, key, uid, cancellationToken))
        {
            return EmailChangeResult.Taken;
        }

        var reservation = await gate.ReserveAsync(DeliveryPurposes.VerifyEmail, uid, EmailAddresses.Hash(address), null, cancellationToken);
        if (!reservation.Allowed)
        {
            throw SendLimit(reservation.RetryAfterSeconds);
        }

        var previous = member.EmailVerified && member.EmailKey != key ? member.Email : null;
        IssuedEmailCode issued;
        try
        {
            issued = await StoreAsync(uid, address, key, target, cancellationToken);
        }
        catch
        {
            await gate.FinishAsync(reservation, DeliveryOutcome.Cancelled);
            throw;
        }

        await SendVerificationAsync(reservation, member, address, issued, cancellationToken);
        if (previous is not null)
        {
            await notices.SendAsync(uid, previous, member.DisplayName, member.Locale, EmailKind.EmailChanged, cancellationToken);
        }

        return EmailChangeResult.Sent;
    }

    /// <summary>Mails a verification challenge and records how the delivery ended.</summary>
    internal async Task SendVerificationAsync(DeliveryReservation reservation, Member member, string address, IssuedEmailCode issued, CancellationToken cancellationToken)
    {
        var model = new EmailModel(member.DisplayName, issued.Code, links.Page(PagePaths.VerifyEmail, issued.LinkToken), null, codes.Minutes);
        try
        {
            await mailer.SendAsync(address, member.DisplayName, member.Locale, EmailKind.VerifyEmail, model, cancellationToken);
        }
        catch
        {
            await gate.FinishAsync(reservation, DeliveryOutcome.Failed);
            throw;
        }

        await gate.FinishAsync(reservation, DeliveryOutcome.Sent);
    }

    internal static RpcException SendLimit(int seconds) =>
        PanError.Plain(StatusCode.ResourceExhausted, "EMAIL_SEND_LIMIT", $"Too many emails were sent; try again in {seconds} s.");

    /// <summary>
    /// Stores the address (unverified) and a new challenge in one transaction. An unverified address never collides on
    /// the email index, so another member verifying the address meanwhile leaves this claim unverifiable, not refused.
    /// </summary>
    private async Task<IssuedEmailCode> StoreAsync(long uid, string address, string key, Uri? redirect, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                var member = await db.Members.FirstAsync(m => m.Uid == uid, cancellationToken);
                member.Email = address;
                member.EmailKey = key;
                member.EmailVerified = false;
                member.Modified = clock.GetUtcNow();
                await db.SaveChangesAsync(cancellationToken);
                var issued = await codes.IssueAsync(uid, EmailPurposes.VerifyEmail, key, redirect, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return issued;
            }
            catch (DbUpdateConcurrencyException) when (attempt < 3)
            {
                // A concurrent profile edit bumped the version; read again and retry.
                await transaction.RollbackAsync(cancellationToken);
            }
        }
    }
}
