using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;
using Pan.Server.Deletion;
using Pan.Server.Outbox;

namespace Pan.Server.Email;

/// <summary>
/// Erases a deleted member's email codes and links (each names the address) and gives up its queued mail (the payload
/// holds the address and a live code), so nothing is mailed for a member that no longer exists. The delivery log keeps
/// only hashes and stays for the abuse caps.
/// </summary>
public sealed class EmailDataEraser(PanDbContext db, TimeProvider clock) : IMemberDataEraser
{
    public async Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken)
    {
        await db.Set<EmailCode>().Where(c => uids.Contains(c.Uid)).ExecuteDeleteAsync(cancellationToken);
        await OutboxQueue.AbandonAsync<MailOutboxEntry>(db, e => uids.Contains(e.Uid), clock.GetUtcNow(), OutboxQueue.MemberDeleted, cancellationToken);
    }
}
