using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Members;
using Pan.Data.PhaseSessions;
using Pan.Server.AppEvents;
using Pan.Server.Audit;
using Pan.Server.Avatars;
using Pan.Server.Tokens;

namespace Pan.Server.Deletion;

/// <summary>How a deletion request ended.</summary>
public enum DeletionOutcome
{
    /// <summary>Deleted now.</summary>
    Deleted,

    /// <summary>A concurrent request deleted it first; nothing more to do.</summary>
    AlreadyDeleted,

    /// <summary>
    /// The del_token was wrong, expired, used, for another operation or another member, or its member was deleted
    /// meanwhile (the token with it) while other members of the account are left; nothing changed.
    /// </summary>
    Denied,

    /// <summary>
    /// Only from <see cref="MemberDeletion.DeletePhonelessAccountAsync"/>: the account has a phone (or the member is no
    /// longer under it), so it must be deleted through the SMS step-up; nothing changed and the del_token is not spent.
    /// </summary>
    HasPhone,
}

/// <summary>
/// Deletes a member or a whole phone account in one transaction: consumes the del_token, erases the personal data
/// (display name, email, username, gender, avatar, VIP date, activation data; the phone for an account), keeps a
/// tombstone (uid, object_id, hash_uid, account, created, deleted), frees the unique values (set to NULL, so they can be
/// used again), moves the account's default member to the oldest remaining one, revokes every token at once, lets each
/// <see cref="IMemberDataEraser"/> erase its tables (the members' sessions and tokens among them, spent or not, so no
/// row of theirs waits for its expiry), removes the members' pending phase sessions, queues a <c>member.deleted</c>
/// event per member for each subscribed app (<see cref="AppEventOutbox"/>) and writes the audit log. Deleting an
/// account's last member deletes the account too. Avatar files are deleted after the commit.
/// Concurrent changes to the same account or members make the transaction retry from the start.
/// </summary>
public sealed class MemberDeletion(
    PanDbContext db,
    TokenService tokens,
    AuditLog audit,
    IEnumerable<IMemberDataEraser> erasers,
    AvatarService avatars,
    AppEventOutbox events,
    TimeProvider clock,
    ILogger<MemberDeletion> logger,
    Metrics.PanMetrics metrics)
{
    private const int Attempts = 8;

    /// <summary>Deletes the caller's member (and the account when it was its last live member).</summary>
    public Task<DeletionOutcome> DeleteMemberAsync(AccessTokenInfo caller, string delToken, CancellationToken cancellationToken) =>
        RunAsync(caller, delToken, wholeAccount: false, phonelessOnly: false, cancellationToken);

    /// <summary>Deletes the caller's phone account and every member under it.</summary>
    public Task<DeletionOutcome> DeleteAccountAsync(AccessTokenInfo caller, string delToken, CancellationToken cancellationToken) =>
        RunAsync(caller, delToken, wholeAccount: true, phonelessOnly: false, cancellationToken);

    /// <summary>
    /// Deletes the caller's account and its members only while the account has no phone (the guest route of the apinode
    /// endpoints); <see cref="DeletionOutcome.HasPhone"/> otherwise. The check is made in the deletion's transaction.
    /// </summary>
    public Task<DeletionOutcome> DeletePhonelessAccountAsync(AccessTokenInfo caller, string delToken, CancellationToken cancellationToken) =>
        RunAsync(caller, delToken, wholeAccount: true, phonelessOnly: true, cancellationToken);

    private async Task<DeletionOutcome> RunAsync(AccessTokenInfo caller, string delToken, bool wholeAccount, bool phonelessOnly, CancellationToken cancellationToken)
    {
        var actor = AuditLog.Member(caller.Uid);
        var (action, target) = wholeAccount ? ("account.delete", Account(caller.AccountId)) : ("member.delete", AuditLog.Member(caller.Uid));
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                // Why the caller's row first (LiveMembers): the erasers below delete the member's verify tokens, so a
                // second deletion of the member that had spent its own del_token before waiting for the member row held
                // that token's row while this one waited for it (a deadlock on PostgreSQL); here it waits holding
                // nothing. Coming second, it finds the member deleted and its del_token erased with it: nothing is left
                // to delete (already deleted), or, for a DeleteAccount whose own member went first, nothing that token
                // could still prove (denied).
                if (!await LiveMembers.LockAsync(db, caller.Uid, cancellationToken))
                {
                    var othersLeft = wholeAccount && await db.Members.AnyAsync(m => m.AccountId == caller.AccountId && m.Deleted == null, cancellationToken);
                    await tx.RollbackAsync(cancellationToken);
                    await audit.WriteAsync(actor, action, target, othersLeft ? "denied: the member was deleted meanwhile" : "already deleted", cancellationToken);
                    return othersLeft ? DeletionOutcome.Denied : DeletionOutcome.AlreadyDeleted;
                }

                // Why: in the transaction, before the del_token is spent: a phone attached meanwhile changes the account's
                // Version, so the deletion below conflicts, retries and stops here (a phone needs its SMS step-up).
                if (phonelessOnly && !await db.Accounts.AnyAsync(
                        a => a.Id == caller.AccountId && a.PhoneE164 == null && a.Members.Any(m => m.Uid == caller.Uid), cancellationToken))
                {
                    await tx.RollbackAsync(cancellationToken);
                    await audit.WriteAsync(actor, action, target, "denied: the account has a phone", cancellationToken);
                    return DeletionOutcome.HasPhone;
                }

                var proof = await ConsumeDelTokenAsync(delToken, caller.Uid, cancellationToken);
                if (proof is null)
                {
                    await tx.RollbackAsync(cancellationToken);
                    await audit.WriteAsync(actor, action, target, "denied: del_token invalid", cancellationToken);
                    return DeletionOutcome.Denied;
                }

                var account = await db.Accounts.FirstAsync(a => a.Id == caller.AccountId, cancellationToken);
                var live = await db.Members.Where(m => m.AccountId == account.Id && m.Deleted == null).OrderBy(m => m.Uid).ToListAsync(cancellationToken);
                // Why: a password proves its member, not the phone; from a session that proved no more than that member,
                // it deletes that member, never the phone's other members (SECURITY 13 and 19). The rollback leaves the
                // del_token usable (for DeleteMember). With no other live member, DeleteAccount takes what DeleteMember would.
                if (wholeAccount && proof == VerifyPurposes.DeleteByPassword && !caller.ProvesThePhone && live.Any(m => m.Uid != caller.Uid))
                {
                    await tx.RollbackAsync(cancellationToken);
                    await audit.WriteAsync(actor, action, target, "denied: a password del_token of a session that proved one member", cancellationToken);
                    return DeletionOutcome.Denied;
                }
                var doomed = wholeAccount ? live : live.Where(m => m.Uid == caller.Uid).ToList();
                if (doomed.Count == 0)
                {
                    await audit.WriteAsync(actor, action, target, "already deleted", cancellationToken);
                    await tx.CommitAsync(cancellationToken);
                    return DeletionOutcome.AlreadyDeleted;
                }

                var now = clock.GetUtcNow();
                var avatarKeys = doomed.Select(m => m.AvatarKey).ToList();
                var uids = doomed.Select(m => m.Uid).ToList();
                doomed.ForEach(m => Erase(m, now));
                var remaining = live.Where(m => !uids.Contains(m.Uid)).ToList();
                var accountDeleted = remaining.Count == 0;
                if (accountDeleted)
                {
                    account.PhoneE164 = null;
                    account.DefaultMemberUid = null;
                    account.Deleted = now;
                }
                else if (account.DefaultMemberUid is not { } current || uids.Contains(current))
                {
                    // Why: the phone keeps a default member, so AccessToken without object_id still works; the oldest is the least surprising.
                    account.DefaultMemberUid = remaining[0].Uid;
                }

                account.Modified = now;
                await db.SaveChangesAsync(cancellationToken);

                await (accountDeleted ? tokens.RevokeAccountAsync(account.Id, cancellationToken) : tokens.RevokeMemberAsync(caller.Uid, cancellationToken));
                foreach (var eraser in erasers)
                {
                    await eraser.EraseAsync(uids, cancellationToken);
                }

                await db.Set<PhaseSession>().Where(s => s.Uid != null && uids.Contains(s.Uid.Value)).ExecuteDeleteAsync(cancellationToken);
                // Why in the transaction: the files are deleted after the commit; a node dying first leaves them to the janitor.
                foreach (var key in avatarKeys)
                {
                    await avatars.ReleaseAsync(key, cancellationToken);
                }

                // Why here, in the transaction: the subscribed apps hear of every deletion that commits, and of none that does not.
                await events.MemberDeletedAsync(doomed, accountDeleted, now, cancellationToken);
                await WriteAuditAsync(actor, wholeAccount, account.Id, uids, accountDeleted, cancellationToken);
                await tx.CommitAsync(cancellationToken);
                events.Wake();
                for (var i = 0; i < uids.Count; i++)
                {
                    metrics.Deletion("member");
                }

                if (accountDeleted)
                {
                    metrics.Deletion("account");
                }

                logger.LogInformation("Deleted {Count} member(s) of account {AccountId}; account deleted: {AccountDeleted}", uids.Count, account.Id, accountDeleted);
                foreach (var key in avatarKeys)
                {
                    await avatars.DeleteFilesAsync(key, cancellationToken);
                }

                return DeletionOutcome.Deleted;
            }
            catch (DbUpdateConcurrencyException) when (attempt < Attempts)
            {
                await tx.RollbackAsync(cancellationToken);
                await Task.Delay(Random.Shared.Next(5, 25) * attempt, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Spends the del_token of member <paramref name="uid"/> (in the caller's transaction): the purpose it proved, the SMS
    /// step-up's <see cref="VerifyPurposes.Delete"/> or VerifyMemberByPassword's <see cref="VerifyPurposes.DeleteByPassword"/>,
    /// or null when it is neither (wrong, expired, used, another member's or another operation's).
    /// </summary>
    private async Task<string?> ConsumeDelTokenAsync(string delToken, long uid, CancellationToken cancellationToken)
    {
        foreach (var purpose in new[] { VerifyPurposes.Delete, VerifyPurposes.DeleteByPassword })
        {
            if (await tokens.ConsumeVerifyTokenAsync(delToken, uid, purpose, cancellationToken))
            {
                return purpose;
            }
        }

        return null;
    }

    /// <summary>Leaves the tombstone: uid, object_id, hash_uid, account, created, deleted (and bookkeeping columns).</summary>
    private static void Erase(Member member, DateTimeOffset now)
    {
        member.DisplayName = null;
        member.DisplayNameKey = null;
        member.Username = null;
        member.Email = null;
        member.EmailKey = null;
        member.EmailVerified = false;
        member.Gender = 0;
        member.AvatarKey = null;
        member.VipExpireDate = null;
        member.ActivateIp = null;
        member.ActivateDate = null;
        member.Locale = "en";
        member.Deleted = now;
        member.Modified = now;
    }

    private async Task WriteAuditAsync(string actor, bool wholeAccount, long accountId, List<long> uids, bool accountDeleted, CancellationToken cancellationToken)
    {
        foreach (var uid in uids)
        {
            await audit.WriteAsync(actor, "member.delete", AuditLog.Member(uid), wholeAccount ? "ok: with its account" : "ok", cancellationToken);
        }

        if (accountDeleted)
        {
            await audit.WriteAsync(actor, "account.delete", Account(accountId), wholeAccount ? "ok" : "ok: its last member was deleted", cancellationToken);
        }
    }

    private static string Account(long id) => "account:" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
