using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;
using Pan.Data.Members;
using Pan.Server.Data;
using Pan.Server.Deletion;
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

    /// <summary>The member was deleted after the address was checked: nothing was written, nothing is mailed.</summary>
    MemberGone,

    /// <summary>The caller's proof (a verify token) could not be spent with the change: nothing was written, nothing is mailed.</summary>
    ProofRefused,

    /// <summary>
    /// The change (and the proof's use) was committed, but the relay gave up on the verification mail: the member asks
    /// for a new one (SendEmailVerification) rather than repeating the change, whose proof is spent.
    /// </summary>
    SavedNotMailed,
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
/// When a verified address is replaced, the previous address gets an "email changed" notice. Call
/// <see cref="RequestAsync"/> outside a database transaction: it commits its own (the address and the challenge
/// together), its delivery log commits on its own, and a mail cannot be rolled back. A caller whose own writes must
/// commit with the change (UpdateCredential spends its verify token there) runs the steps itself: <see cref="PlanAsync"/>
/// before its transaction, <see cref="RecordAsync"/> inside it, then <see cref="SendAsync"/> after the commit or
/// <see cref="AbandonAsync"/> when it rolled back.
/// </remarks>
public sealed class EmailChanges(
    PanDbContext db,
    LinkBuilder links,
    EmailCodes codes,
    DeliveryGate gate,
    Mailer mailer,
    EmailNotices notices,
    Recovery.ResetProofRevoker resetProofs,
    TimeProvider clock)
{
    /// <summary>
    /// Plans, records and mails a change in one go. <paramref name="spendProof"/> runs in the transaction that records
    /// the address, after the member's row is taken: it spends the caller's proof (a verify token) and answers whether
    /// it could; when it cannot, nothing is written or mailed (<see cref="EmailChangeResult.ProofRefused"/>). An answer
    /// without a change (the member's verified address again, or a refused one) spends nothing. When the relay gives up
    /// after the commit the answer is <see cref="EmailChangeResult.SavedNotMailed"/>.
    /// </summary>
    public async Task<EmailChangeResult> RequestAsync(
        long uid, string email, string? redirect, Func<CancellationToken, Task<bool>> spendProof, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(uid, email, redirect, cancellationToken);
        if (plan.Change is not { } change)
        {
            return plan.Result;
        }

        (IssuedEmailCode? Issued, EmailChangeResult Result) stored;
        try
        {
            stored = await StoreAsync(change, spendProof, cancellationToken);
        }
        catch
        {
            await AbandonAsync(plan);
            throw;
        }

        if (stored.Issued is not { } issued)
        {
            await AbandonAsync(plan);
            return stored.Result;
        }

        try
        {
            await SendAsync(plan, issued, cancellationToken);
        }
        catch (DependencyUnavailableException)
        {
            return EmailChangeResult.SavedNotMailed;
        }

        return EmailChangeResult.Sent;
    }

    /// <summary>
    /// Checks the address (outside any transaction) and reserves its verification mail with the caps: a plan without a
    /// change when it is refused or already the member's verified address. Throws EMAIL_SEND_LIMIT when the caps refuse.
    /// </summary>
    public async Task<EmailChangePlan> PlanAsync(long uid, string email, string? redirect, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            throw new InvalidOperationException("EmailChanges must be planned outside a database transaction.");
        }

        if (EmailAddresses.Normalize(email) is not { } address)
        {
            return new EmailChangePlan(EmailChangeResult.InvalidEmail, null);
        }

        if (!links.TryRedirect(redirect, out var target))
        {
            return new EmailChangePlan(EmailChangeResult.RedirectNotAllowed, null);
        }

        var key = EmailAddresses.Key(address);
        // Why an answer and not NOT_FOUND: the caller's token named this member, so a deletion committed since the token's
        // check (SQLite lets it land between the two reads) makes it a member that is gone, which each caller answers as
        // its RPC answers a gone member, as RecordAsync's callers do.
        var member = await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Uid == uid && m.Deleted == null, cancellationToken);
        if (member is null)
        {
            return new EmailChangePlan(EmailChangeResult.MemberGone, null);
        }

        if (member.EmailKey == key && member.EmailVerified)
        {
            return new EmailChangePlan(EmailChangeResult.Sent, null);
        }

        if (await EmailAddresses.OwnedByAnotherAsync(db.Members, key, uid, cancellationToken))
        {
            return new EmailChangePlan(EmailChangeResult.Taken, null);
        }

        var reservation = await gate.ReserveAsync(DeliveryPurposes.VerifyEmail, uid, EmailAddresses.Hash(address), null, cancellationToken);
        if (!reservation.Allowed)
        {
            throw SendLimit(reservation.RetryAfterSeconds);
        }

        var previous = member.EmailVerified && member.EmailKey != key ? member.Email : null;
        return new EmailChangePlan(EmailChangeResult.Sent, new PlannedEmailChange(member, address, key, target, previous, reservation));
    }

    /// <summary>
    /// Stores the planned address (unverified) and a new challenge in the caller's transaction, ending the reset proofs
    /// that came through the address it replaces (<see cref="Recovery.ResetProofRevoker.RevokeEmailProofsAsync"/>). An unverified address
    /// never collides on the email index, so another member verifying the address meanwhile leaves this claim
    /// unverifiable, not refused. The caller takes <see cref="LiveMembers.LockAsync"/> first in that transaction and
    /// records nothing when it answers false.
    /// </summary>
    /// <remarks>
    /// Why the caller locks: the plan read the member before the transaction; a deletion that committed since (or, on
    /// PostgreSQL, was still uncommitted then) would otherwise get the new address written onto its record, a code
    /// issued and a mail sent. The lock waits for such a deletion and then finds no live member.
    /// </remarks>
    public async Task<IssuedEmailCode> RecordAsync(PlannedEmailChange change, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("EmailChanges.RecordAsync must run in the caller's transaction.");
        }

        var member = await db.Members.FirstAsync(m => m.Uid == change.Member.Uid, cancellationToken);
        var moved = member.EmailKey != change.Key;
        member.Email = change.Address;
        member.EmailKey = change.Key;
        member.EmailVerified = false;
        member.Modified = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        if (moved)
        {
            // Why: a reset mailed to the address being replaced must not set the password afterwards.
            await resetProofs.RevokeEmailProofsAsync(member.Uid, cancellationToken);
        }

        return await codes.IssueAsync(member.Uid, EmailPurposes.VerifyEmail, change.Key, change.Redirect, cancellationToken);
    }

    /// <summary>After the commit: mails the challenge and tells the replaced verified address. Throws when SMTP gave up.</summary>
    public async Task SendAsync(EmailChangePlan plan, IssuedEmailCode issued, CancellationToken cancellationToken)
    {
        if (plan.Change is not { } change)
        {
            return;
        }

        await SendVerificationAsync(change.Reservation, change.Member, change.Address, issued, cancellationToken);
        if (change.Previous is not null)
        {
            await notices.SendAsync(change.Member.Uid, change.Previous, change.Member.DisplayName, change.Member.Locale, EmailKind.EmailChanged, cancellationToken);
        }
    }

    /// <summary>When the change was not committed: its reserved mail is not counted against the caps.</summary>
    public async Task AbandonAsync(EmailChangePlan plan)
    {
        if (plan.Change is { } change)
        {
            await gate.FinishAsync(change.Reservation, DeliveryOutcome.Cancelled);
        }
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
    /// Records the change in a transaction of its own, with the spending of the caller's proof, reading the member again
    /// after a concurrent profile edit (the proof's use rolls back with it); no code, with nothing written, when the
    /// member is deleted or the proof is refused.
    /// </summary>
    private async Task<(IssuedEmailCode? Issued, EmailChangeResult Result)> StoreAsync(
        PlannedEmailChange change, Func<CancellationToken, Task<bool>> spendProof, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                if (!await LiveMembers.LockAsync(db, change.Member.Uid, cancellationToken))
                {
                    return (null, EmailChangeResult.MemberGone);
                }

                if (!await spendProof(cancellationToken))
                {
                    return (null, EmailChangeResult.ProofRefused);
                }

                var issued = await RecordAsync(change, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return (issued, EmailChangeResult.Sent);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 3)
            {
                // A concurrent profile edit bumped the version; read again and retry.
                await transaction.RollbackAsync(cancellationToken);
            }
        }
    }
}

/// <summary>What <see cref="EmailChanges.PlanAsync"/> decided: the answer, and the change to record when there is one.</summary>
public sealed record EmailChangePlan(EmailChangeResult Result, PlannedEmailChange? Change);

/// <summary>A checked address change with its reserved verification mail; <c>Previous</c> is the verified address it replaces.</summary>
public sealed record PlannedEmailChange(Member Member, string Address, string Key, Uri? Redirect, string? Previous, DeliveryReservation Reservation);
