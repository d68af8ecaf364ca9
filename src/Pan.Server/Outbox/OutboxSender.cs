using System.Linq.Expressions;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;
using Pan.Data.Outbox;
using Pan.Server.Errors;

namespace Pan.Server.Outbox;

/// <summary>
/// What became of one delivery: handed over, refused unsent by the channel's own rules, or given up because there is
/// no longer anywhere to send it (each with the reason).
/// </summary>
public readonly record struct OutboxDelivery(string? BlockedReason, string? AbandonedReason = null)
{
    public static OutboxDelivery Sent => default;

    public static OutboxDelivery Blocked(string reason) => new(reason);

    public static OutboxDelivery Abandoned(string reason) => new(null, reason);
}

/// <summary>What one <see cref="OutboxSender{TEntry}"/> attempt at a row came to.</summary>
public enum OutboxAttempt
{
    /// <summary>Another node holds the row, or it is no longer due: nothing was done.</summary>
    NotClaimed,

    /// <summary>The row ended: sent, blocked or given up.</summary>
    Finished,

    /// <summary>The send failed; the row waits for its next attempt.</summary>
    RetryLater,
}

/// <summary>
/// Sends the queued rows of one outbox table. Several nodes may share one database, so a row is first claimed by one
/// conditional UPDATE (pending, due, and not leased to anyone now → leased to me, attempts + 1); of racing nodes exactly
/// one changes the row, on SQLite and PostgreSQL alike. The lease outlasts one whole send (<see cref="Lease"/>), and a
/// sender writes the result only while the row still carries its own claim (<c>attempts</c> unchanged), so a row is
/// sent once unless a node dies between the provider's acceptance and the commit (then it may be sent again after the
/// lease: at least once). A failed send is retried after a doubling delay (<see cref="OutboxOptions"/>) until the row's
/// code expires (or, for an outbox of events, its delivery window ends); then it is abandoned. A row whose member is no
/// longer live when claimed is abandoned unsent (<see cref="OutboxQueue.MemberDeleted"/>), unless the outbox reports
/// deletions (<see cref="SendsForDeletedMembers"/>). Sent, blocked and abandoned rows lose their payload at once;
/// nothing secret is logged.
/// </summary>
public abstract class OutboxSender<TEntry>(IServiceScopeFactory scopes, TimeProvider clock, OutboxOptions options, string channel, ILogger logger)
    : IOutboxPass
    where TEntry : OutboxEntry
{
    /// <summary>Rows read per look for due ones.</summary>
    protected const int Batch = 20;

    /// <summary>The clock the outbox's times come from (what a channel stamps on a message, too).</summary>
    protected TimeProvider Clock => clock;

    /// <summary>Where a sender gets a scope (and a <see cref="PanDbContext"/>) of its own.</summary>
    protected IServiceScopeFactory Scopes => scopes;

    /// <summary>Sends every row due now that this node can claim; returns how many it claimed.</summary>
    public virtual async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        var claimed = 0;
        while (true)
        {
            var due = await DueAsync(cancellationToken);
            var progressed = false;
            foreach (var id in due)
            {
                if (await TrySendAsync(id, cancellationToken))
                {
                    claimed++;
                    progressed = true;
                }
            }

            // Why stop when nothing was claimed: every due row went to other nodes; a failed row is no longer due.
            if (!progressed)
            {
                return claimed;
            }
        }
    }

    /// <summary>Claims row <paramref name="id"/> if nobody holds it and sends it; false when another node has it or it is not due.</summary>
    public async Task<bool> TrySendAsync(long id, CancellationToken cancellationToken) =>
        await AttemptAsync(id, cancellationToken) != OutboxAttempt.NotClaimed;

    /// <summary>Claims row <paramref name="id"/> if nobody holds it and sends it; says what came of it.</summary>
    protected async Task<OutboxAttempt> AttemptAsync(long id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var now = clock.GetUtcNow();
        var leaseEnd = now + Lease();
        var changed = await Due(db, now).Where(e => e.Id == id)
            .ExecuteUpdateAsync(u => u.SetProperty(e => e.ClaimedUntil, leaseEnd).SetProperty(e => e.Attempts, e => e.Attempts + 1), cancellationToken);
        if (changed != 1)
        {
            return OutboxAttempt.NotClaimed;
        }

        var row = await db.Set<TEntry>().AsNoTracking().FirstAsync(e => e.Id == id, cancellationToken);
        // Why the member is checked here, at send time, as well as by the enqueue (LiveMembers.LockAsync): a row queued
        // without that lock, or by a transaction that committed after a deletion's erasers looked, would otherwise
        // reach a deleted member's address. Once a deletion has committed no claim sends for the member: the row is
        // given up like the ones the deletion's erasers found. Only a send claimed before that commit can still leave.
        var uid = row.Uid;
        if (!SendsForDeletedMembers && !await db.Members.AnyAsync(m => m.Uid == uid && m.Deleted == null, cancellationToken))
        {
            logger.LogInformation("Gave up on queued {Kind} {Channel} {Id}: member {Uid} was deleted", row.Kind, channel, row.Id, row.Uid);
            await FinishAsync(db, row, OutboxState.Abandoned, DeliveryOutcome.Failed, OutboxQueue.MemberDeleted);
            return OutboxAttempt.Finished;
        }

        if (row.Expires <= now || row.Payload is null)
        {
            logger.LogWarning("Gave up on queued {Kind} {Channel} {Id} of member {Uid} after {Attempts} attempt(s): {Reason} ({LastError})",
                row.Kind, channel, row.Id, row.Uid, row.Attempts - 1, ExpiredReason, row.LastError);
            await FinishAsync(db, row, OutboxState.Abandoned, DeliveryOutcome.Failed, ExpiredReason);
            return OutboxAttempt.Finished;
        }

        OutboxDelivery delivery;
        try
        {
            delivery = await DeliverAsync(scope.ServiceProvider, row, row.Payload, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down mid-send: hand the row back at once rather than when the lease ends.
            await Claimed(db, row).ExecuteUpdateAsync(u => u.SetProperty(e => e.ClaimedUntil, (DateTimeOffset?)null), CancellationToken.None);
            throw;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            await RetryLaterAsync(db, row, ex);
            return OutboxAttempt.RetryLater;
        }

        // Why not cancellable: the provider has the message (or refused it for good); its row must say so (and lose its
        // payload) even while shutting down.
        if (delivery.AbandonedReason is { } gone)
        {
            logger.LogInformation("Gave up on queued {Kind} {Channel} {Id} of member {Uid}: {Reason}", row.Kind, channel, row.Id, row.Uid, gone);
            await FinishAsync(db, row, OutboxState.Abandoned, DeliveryOutcome.Failed, gone);
        }
        else if (delivery.BlockedReason is { } reason)
        {
            logger.LogWarning("Queued {Kind} {Channel} {Id} of member {Uid} blocked unsent: {Reason}", row.Kind, channel, row.Id, row.Uid, reason);
            await FinishAsync(db, row, OutboxState.Blocked, DeliveryOutcome.Skipped, reason);
        }
        else
        {
            await FinishAsync(db, row, OutboxState.Sent, DeliveryOutcome.Sent, null);
        }

        return OutboxAttempt.Finished;
    }

    /// <summary>
    /// Hands one claimed row's message to the channel. Returns whether it was sent or refused for good by the channel's
    /// own rules; throws (e.g. <see cref="DependencyUnavailableException"/>) for a failure worth retrying. Never logs
    /// the payload.
    /// </summary>
    protected abstract Task<OutboxDelivery> DeliverAsync(IServiceProvider services, TEntry row, string payload, CancellationToken cancellationToken);

    /// <summary>
    /// True for an outbox whose rows report a member's deletion (events for apps): they must leave after it, so the
    /// claim does not give up rows of deleted members. False (the default) for messages to the member.
    /// </summary>
    protected virtual bool SendsForDeletedMembers => false;

    /// <summary>Why a row is given up once <see cref="OutboxEntry.Expires"/> has passed (logged and recorded on the row).</summary>
    protected virtual string ExpiredReason => "its code expired before it could be sent";

    /// <summary>How long a claim holds: one whole send with every retry of the transport, and a margin.</summary>
    protected abstract TimeSpan Lease();

    /// <summary>
    /// A lease for a transport that makes <paramref name="retries"/> + 1 attempts of at most <paramref name="timeoutSeconds"/>
    /// each, with backoffs starting at <paramref name="retryDelayMilliseconds"/>, doubled per retry and up to 20 % longer
    /// (jitter): every attempt at its time limit, every backoff at its longest, plus a minute for the database.
    /// </summary>
    protected static TimeSpan LeaseFor(int timeoutSeconds, int retries, int retryDelayMilliseconds)
    {
        var attempts = TimeSpan.FromSeconds((double)timeoutSeconds * (retries + 1));
        var backoffs = TimeSpan.FromMilliseconds(retryDelayMilliseconds * (Math.Pow(2, retries) - 1) * 1.2);
        return attempts + backoffs + TimeSpan.FromMinutes(1);
    }

    /// <summary>The rows due at <paramref name="now"/> that nobody holds: pending, their next attempt reached, unclaimed or their lease over.</summary>
    protected static IQueryable<TEntry> Due(PanDbContext db, DateTimeOffset now) =>
        db.Set<TEntry>().Where(e => e.State == OutboxState.Pending && e.NextAttempt <= now && (e.ClaimedUntil == null || e.ClaimedUntil <= now));

    private async Task<List<long>> DueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var now = clock.GetUtcNow();
        return await Due(db, now)
            .OrderBy(e => e.NextAttempt).ThenBy(e => e.Id).Select(e => e.Id).Take(Batch).ToListAsync(cancellationToken);
    }

    private async Task RetryLaterAsync(PanDbContext db, TEntry row, Exception ex)
    {
        var delay = Backoff(row.Attempts);
        var next = clock.GetUtcNow() + delay;
        // Why only the message of our own exception: DependencyUnavailableException names the failure, never the
        // recipient; anything else (a bug) is recorded by type, since its message might quote the payload.
        var error = ex is DependencyUnavailableException ? ex.Message : ex.GetType().Name;
        error = error.Length > 256 ? error[..256] : error;
        await Claimed(db, row).ExecuteUpdateAsync(u => u
            .SetProperty(e => e.NextAttempt, next)
            .SetProperty(e => e.ClaimedUntil, (DateTimeOffset?)null)
            .SetProperty(e => e.LastError, error), CancellationToken.None);
        logger.LogWarning(ex is DependencyUnavailableException ? null : ex,
            "Queued {Kind} {Channel} {Id} of member {Uid} not sent (attempt {Attempt}: {Error}); next try in {Delay}",
            row.Kind, channel, row.Id, row.Uid, row.Attempts, error, delay);
    }

    private async Task FinishAsync(PanDbContext db, TEntry row, OutboxState state, DeliveryOutcome outcome, string? error)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var changed = await Claimed(db, row).ExecuteUpdateAsync(u => u
            .SetProperty(e => e.State, state)
            .SetProperty(e => e.Payload, (string?)null)
            .SetProperty(e => e.Finished, now)
            .SetProperty(e => e.ClaimedUntil, (DateTimeOffset?)null)
            .SetProperty(e => e.LastError, error), CancellationToken.None);
        if (changed == 1 && row.DeliveryAttemptId is { } attempt)
        {
            await db.Set<DeliveryAttempt>().Where(a => a.Id == attempt)
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.Outcome, outcome), CancellationToken.None);
        }

        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>The row while it still carries this sender's claim (nobody re-claimed or replaced it since).</summary>
    private static IQueryable<TEntry> Claimed(PanDbContext db, TEntry row)
    {
        var (id, attempts) = (row.Id, row.Attempts);
        return db.Set<TEntry>().Where(e => e.Id == id && e.Attempts == attempts && e.State == OutboxState.Pending);
    }

    /// <summary><c>RetryDelaySeconds</c> doubled per earlier failure, at most <c>MaxRetryDelaySeconds</c>, ±20 % jitter.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var seconds = Math.Min(options.MaxRetryDelaySeconds, options.RetryDelaySeconds * Math.Pow(2, Math.Min(attempts - 1, 20)));
        return TimeSpan.FromMilliseconds(seconds * 1000 * RandomNumberGenerator.GetInt32(80, 121) / 100);
    }
}

/// <summary>Queues rows in an outbox table through the caller's <see cref="PanDbContext"/>, so a row commits (or not) with the code it carries.</summary>
public static class OutboxQueue
{
    public const string Replaced = "replaced by a newer message";

    /// <summary>Why a deleted member's queued messages are given up (<see cref="AbandonAsync"/>).</summary>
    public const string MemberDeleted = "the member was deleted";

    /// <summary>
    /// Adds <paramref name="entry"/> (pending, due now; saved, not committed: the caller owns the transaction). A
    /// pending row of the same member and kind is abandoned first — its code died with the new one — its payload
    /// blanked and its reservation recorded as Failed.
    /// </summary>
    public static async Task AddAsync<TEntry>(PanDbContext db, TimeProvider clock, TEntry entry, CancellationToken cancellationToken)
        where TEntry : OutboxEntry
    {
        var now = clock.GetUtcNow();
        var (uid, kind) = (entry.Uid, entry.Kind);
        await AbandonAsync<TEntry>(db, e => e.Uid == uid && e.Kind == kind, now, Replaced, cancellationToken);

        entry.State = OutboxState.Pending;
        entry.Created = now;
        entry.NextAttempt = now;
        db.Add(entry);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// Gives up the pending rows <paramref name="which"/> selects (inside the caller's transaction): each ends
    /// Abandoned with <paramref name="reason"/>, its payload blanked, and its reservation recorded as Failed. A row a
    /// sender holds at that moment is abandoned too; that sender's own update then finds it no longer its own.
    /// </summary>
    public static async Task AbandonAsync<TEntry>(
        PanDbContext db, Expression<Func<TEntry, bool>> which, DateTimeOffset now, string reason, CancellationToken cancellationToken)
        where TEntry : OutboxEntry
    {
        var pending = db.Set<TEntry>().Where(which).Where(e => e.State == OutboxState.Pending);
        await db.Set<DeliveryAttempt>()
            .Where(a => pending.Any(e => e.DeliveryAttemptId == a.Id))
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.Outcome, DeliveryOutcome.Failed), cancellationToken);
        await pending.ExecuteUpdateAsync(u => u
            .SetProperty(e => e.State, OutboxState.Abandoned)
            .SetProperty(e => e.Payload, (string?)null)
            .SetProperty(e => e.Finished, now)
            .SetProperty(e => e.ClaimedUntil, (DateTimeOffset?)null)
            .SetProperty(e => e.LastError, reason), cancellationToken);
    }
}
