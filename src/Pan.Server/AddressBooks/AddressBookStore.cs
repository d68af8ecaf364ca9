using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.AddressBooks;
using Pan.Server.Deletion;
using Pan.Server.Errors;

namespace Pan.Server.AddressBooks;

/// <summary>
/// A member's address book. Every query is scoped to the calling member's uid, so another member's entry id answers
/// exactly like an unknown one (NOT_FOUND). A save is one transaction that first locks the member's row (a no-op
/// update), so saves of one member serialise on every node and provider: the entry cap holds, and moving the
/// main-live / main-shipping type or the default-buyer flag (clear it on the others, then set it here) never races.
/// The filtered unique indexes on address_books keep the same rules as a last line of defence.
/// </summary>
public sealed class AddressBookStore(PanDbContext db, TimeProvider clock, IOptions<AddressBookOptions> options, ILogger<AddressBookStore> logger)
    : Deletion.IMemberDataEraser
{
    public Task<List<AddressBook>> ListAsync(long uid, CancellationToken cancellationToken) =>
        db.Set<AddressBook>().AsNoTracking().Where(a => a.Uid == uid).OrderBy(a => a.Id).ToListAsync(cancellationToken);

    /// <summary>Creates (<c>input.Id &lt;= 0</c>) or updates one of the member's entries; returns the saved row, or null when the member is gone.</summary>
    public async Task<AddressBook?> SaveAsync(long uid, AddressBook input, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = clock.GetUtcNow();
        if (!await LiveMembers.LockAsync(db, uid, cancellationToken))
        {
            return null;
        }

        AddressBook row;
        if (input.Id > 0)
        {
            row = await db.Set<AddressBook>().FirstOrDefaultAsync(a => a.Id == input.Id && a.Uid == uid, cancellationToken)
                ?? throw NotFound();
        }
        else
        {
            var count = await db.Set<AddressBook>().CountAsync(a => a.Uid == uid, cancellationToken);
            if (count >= options.Value.MaxPerMember)
            {
                throw PanError.Plain(StatusCode.ResourceExhausted, "ADDRESS_BOOK_LIMIT",
                    $"A member may keep at most {options.Value.MaxPerMember} address-book entries; delete one first.");
            }

            row = new AddressBook { Uid = uid, Created = now };
            db.Add(row);
        }

        var others = db.Set<AddressBook>().Where(a => a.Uid == uid && a.Id != row.Id);
        if (input.Type > 0)
        {
            await others.Where(a => a.Type == input.Type).ExecuteUpdateAsync(u => u.SetProperty(a => a.Type, 0).SetProperty(a => a.Modified, now), cancellationToken);
        }

        if (input.DefaultBuyer)
        {
            await others.Where(a => a.DefaultBuyer).ExecuteUpdateAsync(u => u.SetProperty(a => a.DefaultBuyer, false).SetProperty(a => a.Modified, now), cancellationToken);
        }

        row.FullName = input.FullName;
        row.ZipCode = input.ZipCode;
        row.Address = input.Address;
        row.Phone = input.Phone;
        row.Platform = input.Platform;
        row.DefaultBuyer = input.DefaultBuyer;
        row.Type = input.Type;
        row.Modified = now;
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        logger.LogInformation("Saved address-book entry {AddressBookId} of member {Uid}", row.Id, uid);
        return row;
    }

    /// <summary>
    /// Deletes one of the member's entries; NOT_FOUND when the member has no entry with that id. Like a save, it first
    /// locks the member's row, so a save and a delete of one entry run one after the other.
    /// </summary>
    /// <remarks>
    /// Why: a delete that committed between a save's read of the entry and its update made the save's update find no
    /// row, which answered ABORTED ("try again", when trying again could only be NOT_FOUND).
    /// </remarks>
    public async Task DeleteAsync(long uid, long id, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveMembers.LockAsync(db, uid, cancellationToken)
            || await db.Set<AddressBook>().Where(a => a.Id == id && a.Uid == uid).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            throw NotFound();
        }

        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Every entry of the members (inside the caller's transaction, e.g. a deletion).</summary>
    public Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken) =>
        db.Set<AddressBook>().Where(a => uids.Contains(a.Uid)).ExecuteDeleteAsync(cancellationToken);

    private static RpcException NotFound() =>
        PanError.Plain(StatusCode.NotFound, "ADDRESS_BOOK_NOT_FOUND", "You have no address-book entry with this id.");
}
