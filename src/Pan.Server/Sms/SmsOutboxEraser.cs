using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Deletion;
using Pan.Server.Outbox;

namespace Pan.Server.Sms;

/// <summary>Gives up a deleted member's queued text messages (the payload holds the number and a live code).</summary>
public sealed class SmsOutboxEraser(PanDbContext db, TimeProvider clock) : IMemberDataEraser
{
    public Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken) =>
        OutboxQueue.AbandonAsync<SmsOutboxEntry>(db, e => uids.Contains(e.Uid), clock.GetUtcNow(), OutboxQueue.MemberDeleted, cancellationToken);
}
