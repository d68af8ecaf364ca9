using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.AppEvents;
using Pan.Data.Members;
using Pan.Server.Outbox;

namespace Pan.Server.AppEvents;

/// <summary>
/// Queues events for the subscribed apps in <c>app_event_outbox</c> through the caller's <see cref="PanDbContext"/>, so
/// the events commit with the change they report or not at all (SECURITY 21); <see cref="AppEventSender"/> delivers them.
/// </summary>
public sealed class AppEventOutbox(PanDbContext db, TimeProvider clock, IOptions<AppEventsOptions> options, AppEventSignal signal)
{
    /// <summary>
    /// One <c>member.deleted</c> event per member of <paramref name="members"/> for each app subscribed now (saved, not
    /// committed: the caller owns the transaction). Call <see cref="Wake"/> after the commit.
    /// </summary>
    /// <remarks>
    /// Why the subscriptions are read in the deletion's transaction: an app subscribed before the deletion commits gets
    /// its events, one subscribed after gets none (it learns of later deletions only). Why no row for an app without a
    /// subscription: nothing would ever send it, and a later subscription starts from its own moment.
    /// </remarks>
    public async Task MemberDeletedAsync(IReadOnlyCollection<Member> members, bool accountDeleted, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var apps = await db.Set<AppEventSubscription>().AsNoTracking().OrderBy(s => s.AppId).Select(s => s.AppId).ToListAsync(cancellationToken);
        if (apps.Count == 0)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var expires = now.AddHours(options.Value.GiveUpAfterHours);
        foreach (var member in members)
        {
            var data = new MemberDeletedData(member.Uid.ToString(CultureInfo.InvariantCulture), member.ObjectId.ToString("D"), member.HashUid ?? string.Empty, accountDeleted);
            foreach (var app in apps)
            {
                // Why one id per app: each app's delivery is its own event, retried and acknowledged on its own.
                var id = Guid.CreateVersion7(now);
                db.Add(new AppEventOutboxEntry
                {
                    AppId = app,
                    EventId = id,
                    Kind = AppEventTypes.MemberDeleted,
                    Uid = member.Uid,
                    Payload = new AppEventBody<MemberDeletedData>(id.ToString("D"), AppEventTypes.MemberDeleted, AppEventTypes.Timestamp(at), data).ToJson(),
                    State = Pan.Data.Outbox.OutboxState.Pending,
                    Created = now,
                    NextAttempt = now,
                    Expires = expires,
                });
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Tells this node's sender that committed events are waiting, so they leave now rather than at the next poll.</summary>
    public void Wake() => signal.Wake();
}

/// <summary>Wakes this node's <see cref="AppEventWorker"/>; several wakes before it looks count as one.</summary>
public sealed class AppEventSignal : OutboxSignal;
