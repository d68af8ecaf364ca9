using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Server.Data;
using Pan.Server.Members;

namespace Pan.Server.MemberProfiles;

/// <summary>Why a member could not be placed under a phone.</summary>
public enum SlotFailure
{
    None,
    Full,
    NameTaken,
    PhoneTaken,

    /// <summary>The account was deleted (its last member's deletion committed first).</summary>
    AccountGone,
}

/// <summary>
/// Places members under a phone without ever exceeding <c>Pan:Members:MaxPerPhone</c>: the count check and the insert
/// happen in one transaction that also bumps the account's version, so concurrent additions to one account serialise
/// (the loser retries and sees the new count) on every node and provider.
/// </summary>
public sealed class MemberSlots(PanDbContext db, MemberCreator creator, TimeProvider clock, IOptions<MembersOptions> options, Metrics.PanMetrics metrics)
{
    private const int Attempts = 8;

    /// <summary>
    /// Creates <paramref name="member"/> under <paramref name="accountId"/> if there is room and the account is not deleted. <paramref name="alsoInTransaction"/>
    /// runs after the insert, inside the same transaction (e.g. storing the new member's credentials); <paramref name="first"/>
    /// runs first in it, before anything is read or written (e.g. holding the caller's session), and refuses by throwing.
    /// </summary>
    public async Task<(Member? Member, SlotFailure Failure)> AddAsync(
        long accountId, Member member, CancellationToken cancellationToken, Func<Member, CancellationToken, Task>? alsoInTransaction = null,
        Func<CancellationToken, Task>? first = null)
    {
        // Why no savepoints: EF Core would wrap each SaveChanges in this transaction (two in MemberCreator, more in
        // alsoInTransaction) in SAVEPOINT … RELEASE, a round trip each on PostgreSQL, so that a failed save could be
        // undone alone. Here every failure rolls the whole transaction back (and retries or answers), so none is needed.
        var savepoints = db.Database.AutoSavepointsEnabled;
        db.Database.AutoSavepointsEnabled = false;
        try
        {
            return await AddWithRetriesAsync(accountId, member, alsoInTransaction, first, cancellationToken);
        }
        finally
        {
            db.Database.AutoSavepointsEnabled = savepoints;
        }
    }

    private async Task<(Member? Member, SlotFailure Failure)> AddWithRetriesAsync(
        long accountId, Member member, Func<Member, CancellationToken, Task>? alsoInTransaction, Func<CancellationToken, Task>? first,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                if (first is not null)
                {
                    await first(cancellationToken);
                }

                var account = await db.Accounts.FirstAsync(a => a.Id == accountId, cancellationToken);
                // Why: the caller's token was checked before this transaction; the deletion of the account's last member
                // may have committed since (freeing the phone and ending the sessions), and a member added now would be
                // live under a deleted account that nobody can sign in to.
                if (account.Deleted is not null)
                {
                    return (null, SlotFailure.AccountGone);
                }

                // Why here: an operator's block leaves the number's account as it is, but no member joins it.
                await PhoneBlocks.PhoneBlocks.RefuseAsync(db, account.PhoneE164, clock.GetUtcNow(), cancellationToken);

                var live = await db.Members.CountAsync(m => m.AccountId == accountId && m.Deleted == null, cancellationToken);
                if (live >= options.Value.MaxPerPhone)
                {
                    return (null, SlotFailure.Full);
                }

                // Why: bumping the version makes concurrent additions to this account conflict, so the loser retries
                // and counts again. (Modified alone may not change: two requests can share a millisecond.)
                account.Version++;
                account.Modified = clock.GetUtcNow();
                var created = await creator.CreateAsync(account, member, cancellationToken);
                if (alsoInTransaction is not null)
                {
                    await alsoInTransaction(created, cancellationToken);
                }

                await tx.CommitAsync(cancellationToken);
                metrics.Registration("member");
                return (created, SlotFailure.None);
            }
            catch (DbUpdateConcurrencyException) when (attempt < Attempts)
            {
                await tx.RollbackAsync(cancellationToken);
                member.Uid = 0;
                await Task.Delay(Random.Shared.Next(5, 25) * (attempt + 1), cancellationToken);
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var what))
            {
                await tx.RollbackAsync(cancellationToken);
                return (null, DbErrors.Concerns(what, "display_name", "display_name_key") ? SlotFailure.NameTaken : SlotFailure.PhoneTaken);
            }
        }
    }

    /// <summary>
    /// Moves member <paramref name="uid"/> under <paramref name="accountId"/> (optionally renaming it) if there is room:
    /// <see cref="SlotFailure.AccountGone"/> when the account was deleted meanwhile, <see cref="SlotFailure.Full"/> when the phone is full, <see cref="SlotFailure.NameTaken"/> when another member took
    /// <paramref name="newName"/> after the caller checked it (the database's unique index decides), <see cref="SlotFailure.PhoneTaken"/>
    /// when the member is under a phone by then (a concurrent move committed first). The member's former account is left without members. <paramref name="alsoInTransaction"/>
    /// runs after the move, inside the same transaction (e.g. ending the member's old sessions); <paramref name="first"/>
    /// runs first in it, before anything is read or written (e.g. holding the caller's session), and refuses by throwing.
    /// </summary>
    public async Task<SlotFailure> MoveAsync(
        long uid, long accountId, string? newName, CancellationToken cancellationToken, Func<long, CancellationToken, Task>? alsoInTransaction = null,
        Func<CancellationToken, Task>? first = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                if (first is not null)
                {
                    await first(cancellationToken);
                }

                var member = await db.Members.FirstAsync(m => m.Uid == uid, cancellationToken);
                // Why read again here: the callers checked that the member has no phone before this transaction; a
                // concurrent move of the same member into another phone may have committed since (on PostgreSQL this
                // one then lost on the member's version and is retrying), and the member must stay where it went.
                if (await db.Accounts.AnyAsync(a => a.Id == member.AccountId && a.PhoneE164 != null, cancellationToken))
                {
                    return SlotFailure.PhoneTaken;
                }

                var account = await db.Accounts.FirstAsync(a => a.Id == accountId, cancellationToken);
                // Why: as in AddAsync, the callers found the phone's account live before this transaction; the deletion of
                // its last member may have committed since (on PostgreSQL this move then lost on the account's version and
                // is retrying), and a member moved in now would be live under a deleted account nobody can sign in to.
                if (account.Deleted is not null)
                {
                    return SlotFailure.AccountGone;
                }

                await PhoneBlocks.PhoneBlocks.RefuseAsync(db, account.PhoneE164, clock.GetUtcNow(), cancellationToken);

                var live = await db.Members.CountAsync(m => m.AccountId == accountId && m.Deleted == null, cancellationToken);
                if (live >= options.Value.MaxPerPhone)
                {
                    return SlotFailure.Full;
                }

                var now = clock.GetUtcNow();
                member.AccountId = accountId;
                member.IsOwner = false;
                member.Modified = now;
                if (newName is not null)
                {
                    member.DisplayName = newName;
                    member.DisplayNameKey = DisplayNames.DisplayNameRules.Key(newName);
                }

                account.Version++;
                account.Modified = now;
                account.DefaultMemberUid ??= uid;
                await db.SaveChangesAsync(cancellationToken);
                if (alsoInTransaction is not null)
                {
                    await alsoInTransaction(uid, cancellationToken);
                }

                await tx.CommitAsync(cancellationToken);
                return SlotFailure.None;
            }
            catch (DbUpdateConcurrencyException) when (attempt < Attempts)
            {
                await tx.RollbackAsync(cancellationToken);
                await Task.Delay(Random.Shared.Next(5, 25) * (attempt + 1), cancellationToken);
            }
            catch (DbUpdateException ex) when (newName is not null && DbErrors.IsUniqueViolation(ex, out var what)
                && DbErrors.Concerns(what, "display_name", "display_name_key"))
            {
                // Why: the caller's name check and this write are not atomic; a rename racing another member to the same
                // name loses here, and that is the caller's name being taken, not an internal error.
                await tx.RollbackAsync(cancellationToken);
                return SlotFailure.NameTaken;
            }
        }
    }
}
