using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Pan.Data;

namespace Pan.Server.Deletion;

/// <summary>Orders a transaction that writes something for a member against that member's deletion.</summary>
public static class LiveMembers
{
    /// <summary>
    /// Takes the row lock of member <paramref name="uid"/> for the caller's transaction while the member is live; false,
    /// with nothing locked, when it is deleted (or unknown). Run it first in the transaction: a deletion's transaction
    /// updates the member row before its erasers run, so whichever of the two commits second sees the other's outcome —
    /// this transaction finds no live member, or the deletion's erasers find what this transaction wrote. On PostgreSQL
    /// (READ COMMITTED) the lock waits for a deletion not yet committed and then reads the row it left; SQLite runs one
    /// writing transaction at a time.
    /// </summary>
    /// <remarks>
    /// Why first: this transaction's other writes (codes, queued messages) are rows the deletion's erasers lock too;
    /// taking the member row after them could deadlock with a deletion that holds the member row and waits for them.
    /// Why an UPDATE that changes nothing (version = version): it locks the row the same way on both providers; it
    /// reports a change of the member row, so caches read it again once. Every writer that must not outlive a deletion
    /// (resets, recovery codes, address book, credentials, email changes and verifications, the codes a member is mailed
    /// or texted, the consents, authorizations and codes /connect/authorize stores) takes it through here, or through
    /// <see cref="HoldAsync"/> where it writes nothing to the member row and runs often (phone sign-in's first code,
    /// /connect/authorize, the verify tokens of VerifyPhoneCode, VerifyMemberByPassword and a guest's deleteVerify, the
    /// auth_reset_tokens of a reset code, hand-off login tokens).
    /// </remarks>
    public static async Task<bool> LockAsync(PanDbContext db, long uid, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("LiveMembers.LockAsync must run in the caller's transaction.");
        }

        return await db.Members.Where(m => m.Uid == uid && m.Deleted == null)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.Version, m => m.Version), cancellationToken) == 1;
    }

    /// <summary>
    /// <see cref="LockAsync"/> for a transaction on a hot path: the same ordering against the member's deletion, with
    /// nothing written. On PostgreSQL a share lock on the member row (<c>FOR SHARE</c>: a deletion's update of the row
    /// waits for this transaction, and this waits for a deletion not yet committed, then reads the row it left); on
    /// SQLite a read, because the transaction already holds the database's write lock (Microsoft.Data.Sqlite begins
    /// IMMEDIATE), so no deletion can commit until this transaction ends.
    /// </summary>
    /// <remarks>
    /// Why not <see cref="LockAsync"/> there: its UPDATE reports a change of the member row to every node (PostgreSQL
    /// NOTIFY), which moves <c>DataChangeFeed.MembersEpoch</c> and refreshes that member's cached tokens and public view;
    /// on phone sign-in's first step and on /connect/authorize that would happen on every sign-in and authorization.
    /// Run it first in the transaction, for the same reason as <see cref="LockAsync"/>. Not for a transaction that
    /// writes the member row later: two such holders would each wait for the other's share lock.
    /// </remarks>
    public static Task<bool> HoldAsync(PanDbContext db, long uid, CancellationToken cancellationToken) =>
        HoldRowAsync(db, "members", "uid", uid, "deleted", nameof(LiveMembers) + "." + nameof(HoldAsync), cancellationToken);

    /// <summary>
    /// Holds, for the caller's transaction, the row of <paramref name="table"/> whose <paramref name="key"/> is
    /// <paramref name="id"/> while its <paramref name="endedColumn"/> is null: a share lock (<c>FOR SHARE</c>) on
    /// PostgreSQL, a read on SQLite (whose transaction already holds the write lock); false when the row is ended or
    /// gone. Why a command on the context's connection rather than a LINQ or SqlQuery call: it runs on every phone
    /// sign-in and membership pass, and this skips EF Core's query pipeline; it reads one row by primary key and
    /// returns nothing to track. The names are the callers' constants, never input.
    /// </summary>
    internal static async Task<bool> HoldRowAsync(
        PanDbContext db, string table, string key, long id, string endedColumn, string caller, CancellationToken cancellationToken)
    {
        var transaction = db.Database.CurrentTransaction
            ?? throw new InvalidOperationException(caller + " must run in the caller's transaction.");
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = transaction.GetDbTransaction();
        command.CommandText = $"SELECT 1 FROM {table} WHERE {key} = @id AND {endedColumn} IS NULL"
            + (db.Database.IsNpgsql() ? " FOR SHARE" : string.Empty);
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@id";
        parameter.Value = id;
        command.Parameters.Add(parameter);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }
}
