using Microsoft.EntityFrameworkCore;
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
    /// (resets, recovery codes, address book, credentials, email changes, the codes a member is mailed or texted, the
    /// consents, authorizations and codes /connect/authorize stores) takes it through here.
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
}
