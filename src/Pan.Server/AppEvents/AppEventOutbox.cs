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
        var apps = await SubscribedAppsAsync(cancellationToken);
        if (apps.Count == 0)
        {
            return;
        }

        foreach (var member in members)
        {
            Queue(apps, AppEventTypes.MemberDeleted, member.Uid,
                new MemberDeletedData(UidText(member.Uid), member.ObjectId.ToString("D"), member.HashUid ?? string.Empty, accountDeleted), at);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// One <c>member.suspended</c> event about live member <paramref name="uid"/> for each app subscribed now, with the
    /// suspension's end (<paramref name="until"/>; null: until restored). Saved in the suspension's transaction, after
    /// the member's row is held; call <see cref="Wake"/> after the commit.
    /// </summary>
    public Task MemberSuspendedAsync(long uid, DateTimeOffset? until, DateTimeOffset at, CancellationToken cancellationToken) =>
        QueueAboutAsync(uid, AppEventTypes.MemberSuspended,
            ids => new MemberSuspendedData(ids.Uid, ids.ObjectId, ids.HashUid, until is { } end ? AppEventTypes.Timestamp(end) : null), at, cancellationToken);

    /// <summary>
    /// One <c>member.restored</c> event about live member <paramref name="uid"/> for each app subscribed now (queued
    /// only for a member that was suspended). Saved in the restore's transaction; call <see cref="Wake"/> after the commit.
    /// </summary>
    public Task MemberRestoredAsync(long uid, DateTimeOffset at, CancellationToken cancellationToken) =>
        QueueAboutAsync(uid, AppEventTypes.MemberRestored, ids => ids, at, cancellationToken);

    /// <summary>Tells this node's sender that committed events are waiting, so they leave now rather than at the next poll.</summary>
    public void Wake() => signal.Wake();

    private static string UidText(long uid) => uid.ToString(CultureInfo.InvariantCulture);

    private Task<List<string>> SubscribedAppsAsync(CancellationToken cancellationToken) =>
        db.Set<AppEventSubscription>().AsNoTracking().OrderBy(s => s.AppId).Select(s => s.AppId).ToListAsync(cancellationToken);

    /// <summary>Queues <paramref name="type"/> about one member, whose ids are read only when some app is subscribed.</summary>
    private async Task QueueAboutAsync<TData>(long uid, string type, Func<MemberIdsData, TData> data, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var apps = await SubscribedAppsAsync(cancellationToken);
        if (apps.Count == 0)
        {
            return;
        }

        var ids = await db.Members.AsNoTracking().Where(m => m.Uid == uid).Select(m => new { m.ObjectId, m.HashUid }).SingleAsync(cancellationToken);
        Queue(apps, type, uid, data(new MemberIdsData(UidText(uid), ids.ObjectId.ToString("D"), ids.HashUid ?? string.Empty)), at);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// The one builder of events: for each app, a row (not saved yet) holding the envelope (<see cref="AppEventBody{TData}"/>)
    /// of one <paramref name="type"/> event about member <paramref name="uid"/>, with its own id.
    /// </summary>
    private void Queue<TData>(IReadOnlyList<string> apps, string type, long uid, TData data, DateTimeOffset at)
    {
        var now = clock.GetUtcNow();
        var expires = now.AddHours(options.Value.GiveUpAfterHours);
        foreach (var app in apps)
        {
            // Why one id per app: each app's delivery is its own event, retried and acknowledged on its own.
            var id = Guid.CreateVersion7(now);
            db.Add(new AppEventOutboxEntry
            {
                AppId = app,
                EventId = id,
                Kind = type,
                Uid = uid,
                Payload = new AppEventBody<TData>(id.ToString("D"), type, AppEventTypes.Timestamp(at), data).ToJson(),
                State = Pan.Data.Outbox.OutboxState.Pending,
                Created = now,
                NextAttempt = now,
                Expires = expires,
            });
        }
    }
}

/// <summary>Wakes this node's <see cref="AppEventWorker"/>; several wakes before it looks count as one.</summary>
public sealed class AppEventSignal : OutboxSignal;
