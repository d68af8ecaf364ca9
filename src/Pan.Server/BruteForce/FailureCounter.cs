using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Credentials;

namespace Pan.Server.BruteForce;

/// <summary>Whether an account may try a secret now, and whether it has a failure streak on record (a row to clear on success).</summary>
public readonly record struct LockState(bool Locked, TimeSpan RetryAfter, bool HasStreak = false);

/// <summary>
/// One failure counter per member, shared by password, one-time code and security-answer attempts, kept in the
/// database (every node sees it): progressive delay then lock, at most 100 consecutive failures; a success resets it.
/// </summary>
/// <remarks>
/// After <see cref="BruteForceOptions.FreeFailures"/> failures each further one makes the member wait before the next
/// try: 1 s, 2 s, 4 s, … up to <see cref="BruteForceOptions.MaxDelaySeconds"/>. The <see cref="BruteForceOptions.MaxFailures"/>-th
/// failure locks for <see cref="BruteForceOptions.LockMinutes"/>. While waiting or locked, callers must not check the
/// secret and must answer exactly as for a wrong one; such refused attempts are not counted (a waiting legitimate
/// member is not pushed further out). When a lock runs out the streak is kept, so a single further failure locks again
/// (no fresh round of guesses per lock period); a success, or an operator's <see cref="ResetAsync"/>, clears it.
/// Updates are compare-and-set on the streak length, so concurrent failures on any node are all counted.
/// </remarks>
public sealed class FailureCounter(PanDbContext db, TimeProvider clock, IOptions<BruteForceOptions> options, ILogger<FailureCounter> logger, Metrics.PanMetrics metrics)
{
    private static readonly ConditionalWeakTable<IModel, Func<PanDbContext, long, CancellationToken, Task<LockRow?>>> StateQueries = new();

    /// <remarks>Compiled once per model: every secret check reads this, most of them twice (before and after hashing).</remarks>
    public async Task<LockState> StateAsync(long uid, CancellationToken cancellationToken)
    {
        var query = StateQueries.GetValue(db.Model, _ => EF.CompileAsyncQuery((PanDbContext context, long member, CancellationToken _) =>
            context.Set<LoginFailure>().AsNoTracking().Where(f => f.Uid == member).Select(f => new LockRow(f.LockedUntil)).FirstOrDefault()));
        var row = await query(db, uid, cancellationToken);
        return StateOf(row is not null, row?.LockedUntil, clock.GetUtcNow());
    }

    private sealed record LockRow(DateTimeOffset? LockedUntil);

    /// <summary>
    /// The state <see cref="StateAsync"/> answers for a member whose counter row exists (<paramref name="hasRow"/>) with
    /// <paramref name="lockedUntil"/>; for callers that read the row together with other rows.
    /// </summary>
    public static LockState StateOf(bool hasRow, DateTimeOffset? lockedUntil, DateTimeOffset now) =>
        hasRow && lockedUntil is { } until && until > now
            ? new LockState(true, until - now, HasStreak: true)
            : new LockState(false, TimeSpan.Zero, HasStreak: hasRow);

    /// <summary>Counts one failure: the streak grows by one, and the wait or lock for the new count is set.</summary>
    /// <remarks>
    /// Why one upsert that returns the count: every failure of a burst must count exactly once on every node. A read
    /// followed by a compare-and-set retried at most 10 times gave up under 30 guesses at once on PostgreSQL, and the
    /// guess answered INTERNAL. The wait is then written only while the count is still the one this failure made, so
    /// of racing failures the last one's wait stands (a wait only grows with the count). INSERT … ON CONFLICT DO UPDATE
    /// never raises, so this is safe inside a caller's transaction on PostgreSQL too.
    /// </remarks>
    public async Task RecordFailureAsync(long uid, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        var at = now.ToUnixTimeMilliseconds();
        var counts = await db.Database.SqlQuery<int>($"""
            INSERT INTO login_failures (uid, consecutive_failures, last_failure) VALUES ({uid}, 1, {at})
            ON CONFLICT (uid) DO UPDATE SET consecutive_failures = login_failures.consecutive_failures + 1, last_failure = {at}
            RETURNING consecutive_failures AS "Value"
            """).ToListAsync(cancellationToken);
        var count = counts.Single();
        var lockedUntil = LockedUntil(count, now, settings);
        if (lockedUntil is not null)
        {
            await db.Set<LoginFailure>()
                .Where(f => f.Uid == uid && f.ConsecutiveFailures == count)
                .ExecuteUpdateAsync(u => u.SetProperty(f => f.LockedUntil, lockedUntil), cancellationToken);
        }

        Log(uid, count, lockedUntil, settings);
    }

    /// <summary>
    /// After a secret matched: resets the streak and returns true, unless the member became locked while the secret was
    /// being checked. Why: guesses fired together all pass the lock check made before hashing, before any of them
    /// records a failure; a match that ends after the others locked the member loses like a guess made while locked, or
    /// parallel guessing would get past the cap on consecutive failures (SECURITY 10).
    /// </summary>
    public async Task<bool> SucceedUnlessLockedAsync(long uid, CancellationToken cancellationToken)
    {
        var state = await StateAsync(uid, cancellationToken);
        if (state.Locked)
        {
            return false;
        }

        // Why HasStreak: a member without a counter row has nothing to clear, and a success is then one read, not a
        // write (the common case; on SQLite a write would take the database's single write lock for nothing).
        if (state.HasStreak)
        {
            await ResetAsync(uid, cancellationToken);
        }

        return true;
    }

    /// <summary>Clears the member's streak (a success, or an operator releasing a lock).</summary>
    public Task ResetAsync(long uid, CancellationToken cancellationToken) =>
        db.Set<LoginFailure>().Where(f => f.Uid == uid).ExecuteDeleteAsync(cancellationToken);

    /// <summary>The consecutive failures on record (0 without a streak).</summary>
    public Task<int> FailuresAsync(long uid, CancellationToken cancellationToken) =>
        db.Set<LoginFailure>().AsNoTracking().Where(f => f.Uid == uid).Select(f => f.ConsecutiveFailures).FirstOrDefaultAsync(cancellationToken);

    /// <summary>Until when the member must wait after its <paramref name="count"/>-th failure in a row (null: no wait).</summary>
    public static DateTimeOffset? LockedUntil(int count, DateTimeOffset now, BruteForceOptions settings)
    {
        if (count >= settings.MaxFailures)
        {
            return now.AddMinutes(settings.LockMinutes);
        }

        if (count <= settings.FreeFailures)
        {
            return null;
        }

        // Why: 1 s after the first failure past the free ones, doubling each time; the shift is bounded before it can overflow.
        var exponent = Math.Min(count - settings.FreeFailures - 1, 30);
        var seconds = Math.Min(1L << exponent, settings.MaxDelaySeconds);
        return now.AddSeconds(seconds);
    }

    private void Log(long uid, int count, DateTimeOffset? lockedUntil, BruteForceOptions settings)
    {
        if (count >= settings.MaxFailures)
        {
            // Why when committed: a failure recorded in a caller's transaction that then rolls back sets no lock.
            metrics.WhenCommitted(db, m => m.AccountLock());
            logger.LogWarning("Member {Uid} locked after {Failures} consecutive failures until {LockedUntil}", uid, count, lockedUntil);
        }
        else
        {
            logger.LogInformation("Member {Uid} failed a secret check ({Failures} in a row)", uid, count);
        }
    }
}
