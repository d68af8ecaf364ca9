using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Omniauth;

namespace Pan.Server.Network;

/// <summary>
/// Fixed-window request counters in the database (table <c>rate_counters</c>), so every node counts the same requests:
/// <c>email_existed</c>'s limits, the phone check-existence limit and the passkey sign-in limits use them.
/// One statement creates or increments the window's row and returns the new count
/// (<c>INSERT … ON CONFLICT DO UPDATE … RETURNING</c>, the same SQL on SQLite and PostgreSQL).
/// </summary>
public sealed class RateCounters(PanDbContext db, TimeProvider clock)
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    /// <summary>
    /// Counts one request against <paramref name="scope"/>: the window's count with this request, and the seconds to
    /// wait when that is over <paramref name="limit"/> (else null).
    /// </summary>
    public async Task<RateHit> HitAsync(string scope, int limit, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var start = WindowStart(now);
        var counts = await db.Database.SqlQuery<int>(
                $"INSERT INTO rate_counters (scope, window_start, count) VALUES ({scope}, {start}, 1) ON CONFLICT (scope, window_start) DO UPDATE SET count = rate_counters.count + 1 RETURNING count AS \"Value\"")
            .ToListAsync(cancellationToken);
        var count = counts.Single();
        if (count <= limit)
        {
            return new RateHit(count, null);
        }

        return new RateHit(count, RetryAfter(now, start));
    }

    /// <summary>
    /// Takes one of <paramref name="limit"/> places in the window of <paramref name="scope"/>, for a limit on failures:
    /// taken when fewer than <paramref name="limit"/> are taken (the returned place's RetryAfterSeconds is null), else
    /// nothing is counted and it says how long to wait. Whoever ends without a failure gives the place back
    /// (<see cref="GiveBackAsync"/>); a failure keeps it. Why one statement (the upsert counts only while under the
    /// limit): parallel requests each take a place in turn, so no more than <paramref name="limit"/> go on, where a
    /// read before the work and a count after it let every request that read in between through.
    /// </summary>
    public async Task<RatePlace> TakeAsync(string scope, int limit, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var start = WindowStart(now);
        var counts = await db.Database.SqlQuery<int>(
                $"INSERT INTO rate_counters (scope, window_start, count) VALUES ({scope}, {start}, 1) ON CONFLICT (scope, window_start) DO UPDATE SET count = rate_counters.count + 1 WHERE rate_counters.count < {limit} RETURNING count AS \"Value\"")
            .ToListAsync(cancellationToken);
        return new RatePlace(scope, start, counts.Count == 1 ? null : RetryAfter(now, start));
    }

    /// <summary>Gives back a place <see cref="TakeAsync"/> took, to the window it was taken in.</summary>
    public async Task GiveBackAsync(RatePlace place, CancellationToken cancellationToken)
    {
        if (place.RetryAfterSeconds is null)
        {
            await db.Set<RateCounter>().Where(c => c.Scope == place.Scope && c.WindowStart == place.WindowStart && c.Count > 0)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.Count, c => c.Count - 1), cancellationToken);
        }
    }

    /// <summary>The start (Unix milliseconds) of the fixed window <paramref name="now"/> falls in.</summary>
    private static long WindowStart(DateTimeOffset now)
    {
        var windowMs = (long)Window.TotalMilliseconds;
        return now.ToUnixTimeMilliseconds() / windowMs * windowMs;
    }

    private static int RetryAfter(DateTimeOffset now, long start)
    {
        var remaining = start + (long)Window.TotalMilliseconds - now.ToUnixTimeMilliseconds();
        return (int)Math.Max(1, (remaining + 999) / 1000);
    }
}

/// <summary>One counted request: the window's count including it, and the seconds to wait when it was over the limit.</summary>
public readonly record struct RateHit(int Count, int? RetryAfterSeconds);

/// <summary>A place <see cref="RateCounters.TakeAsync"/> took in a window, or, with the seconds to wait, none.</summary>
public sealed record RatePlace(string Scope, long WindowStart, int? RetryAfterSeconds);

/// <summary>Deletes rate-counter windows that ended more than an hour ago, every hour.</summary>
public sealed class RateCounterJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<RateCounterJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var before = (Clock.GetUtcNow() - 2 * RateCounters.Window).ToUnixTimeMilliseconds();
        await db.Set<RateCounter>().Where(c => c.WindowStart < before).ExecuteDeleteAsync(cancellationToken);
    }
}
