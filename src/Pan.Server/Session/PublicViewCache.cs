using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Pan.Server.Data.Changes;
using Pan.Data.Members;

namespace Pan.Server.Session;

/// <summary>
/// This node's copies of members' public columns (ReadObject by uid; see <see cref="PublicMemberReader"/>), so that the members a page shows again and again
/// (a thread's authors, a shop's sellers) are not read from the database on every call.
/// </summary>
/// <remarks>
/// <para>A copy is used only while all of these hold: the <see cref="DataChangeFeed"/> is live (on PostgreSQL: this node's
/// LISTEN stands); no committed change to that member row has been heard since just before the database read it came
/// from (each changed uid gets a version; a copy remembers the version it was read under); the copy is younger than
/// <c>Pan:Members:PublicViewCacheSeconds</c>. A profile edit, a deletion or anything else that writes the member row
/// reaches every node's copies through the feed, as for <see cref="Tokens.AccessTokenCache"/>.</para>
/// <para>Only found members are kept (a uid that is not there is asked for again), and only from a uid's second read
/// within a short while (a one-slot-per-hash "doorkeeper"): uids read once — a crawl, random lookups over millions of
/// members — never displace the ones read again and again, and cost no long-lived garbage. A full cache takes nothing
/// new until its expired copies are swept (at most every half <c>PublicViewCacheSeconds</c>); it never starts over.
/// The copies are shared between calls: callers must not modify them. They hold the partial Member rows rather than the
/// mapped messages, which take about twice the memory (measured in BENCHMARKS.md).</para>
/// </remarks>
public sealed class PublicViewCache : IDisposable
{
    private readonly ConcurrentDictionary<long, Entry> entries = new();
    private readonly DataChangeFeed feed;
    private readonly ChangedRowVersions versions;
    private readonly TimeProvider clock;
    private readonly int capacity;
    private readonly TimeSpan maxAge;
    private readonly long[] doorkeeper;
    private readonly int doorkeeperShift;
    private long nextSweepTicks;
    private int entryCount;

    public PublicViewCache(DataChangeFeed feed, TimeProvider clock, IOptions<MemberViewOptions> options)
    {
        this.feed = feed;
        this.clock = clock;
        capacity = options.Value.PublicViewCacheEntries;
        maxAge = TimeSpan.FromSeconds(options.Value.PublicViewCacheSeconds);
        var slotsLog2 = Math.Clamp((int)Math.Ceiling(Math.Log2(Math.Max(capacity, 1) * 2.0)), 4, 24);
        doorkeeper = new long[1 << slotsLog2];
        doorkeeperShift = 64 - slotsLog2;
        versions = new ChangedRowVersions(feed, Math.Max(capacity, 1) * 4, change => change.Table == ChangedTable.Member);
        versions.EpochStarted += Clear;
    }

    /// <summary>False when switched off (<c>Pan:Members:PublicViewCacheEntries=0</c>) or the change feed is not live.</summary>
    public bool Enabled => capacity > 0 && feed.Live;

    public int Count => Volatile.Read(ref entryCount);

    /// <summary>Take for a uid before reading it from the database; pass to <see cref="Add"/>.</summary>
    public Mark MarkOf(long uid) => new(versions.Epoch, VersionOf(uid));

    /// <summary>The current copy of <paramref name="uid"/>'s public columns, if there is one.</summary>
    public Member? Get(long uid)
    {
        if (!Enabled || !entries.TryGetValue(uid, out var entry))
        {
            return null;
        }

        if (entry.Epoch == versions.Epoch && entry.Version == VersionOf(uid) && clock.GetUtcNow() - entry.Made < maxAge)
        {
            return entry.Member;
        }

        Remove(uid, entry);
        return null;
    }

    /// <summary>Keeps public columns read from the database after <paramref name="mark"/>, unless the member changed since.</summary>
    public void Add(long uid, Member member, Mark mark)
    {
        if (!Enabled || !IsCurrent(uid, mark) || !SeenBefore(uid))
        {
            return;
        }

        var now = clock.GetUtcNow();
        if (Volatile.Read(ref entryCount) >= capacity && !SweepExpired(now))
        {
            return;
        }

        var entry = new Entry(member, mark.Epoch, mark.Version, now);
        entries.AddOrUpdate(uid, _ =>
        {
            Interlocked.Increment(ref entryCount);
            return entry;
        }, (_, _) => entry);

        // Why: a change heard while the copy was being stored may already have passed over this uid.
        if (!IsCurrent(uid, mark))
        {
            Remove(uid, entry);
        }
    }

    public void Dispose() => versions.Dispose();

    /// <summary>True from a uid's second call on while no other uid took its slot (hash of the uid) in between.</summary>
    private bool SeenBefore(long uid)
    {
        // Why a plain read and a write only on a miss rather than Interlocked.Exchange: the slot is a random one of a
        // large array, and a locked exchange stalls the thread for the whole cache miss on every found member (measured
        // in BENCHMARKS.md); two threads racing for one slot may each miss the other's write, which only delays an
        // admission.
        ref var slot = ref doorkeeper[(int)((ulong)uid * 0x9E3779B97F4A7C15UL >> doorkeeperShift)];
        if (Volatile.Read(ref slot) == uid)
        {
            return true;
        }

        Volatile.Write(ref slot, uid);
        return false;
    }

    /// <summary>Drops the expired copies, at most every half max age; true when that made room.</summary>
    private bool SweepExpired(DateTimeOffset now)
    {
        var due = Interlocked.Read(ref nextSweepTicks);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref nextSweepTicks, (now + maxAge / 2).UtcTicks, due) != due)
        {
            return false;
        }

        foreach (var (uid, entry) in entries)
        {
            if (now - entry.Made >= maxAge)
            {
                Remove(uid, entry);
            }
        }

        return Volatile.Read(ref entryCount) < capacity;
    }

    private bool IsCurrent(long uid, Mark mark) => versions.Epoch == mark.Epoch && VersionOf(uid) == mark.Version;

    private long VersionOf(long uid) => versions.VersionOf(new RowChange(ChangedTable.Member, uid));

    private void Clear()
    {
        entries.Clear();
        Volatile.Write(ref entryCount, 0);
    }

    private void Remove(long uid, Entry entry)
    {
        if (entries.TryRemove(new KeyValuePair<long, Entry>(uid, entry)))
        {
            Interlocked.Decrement(ref entryCount);
        }
    }

    /// <summary>The cache's state for one uid just before a database read.</summary>
    public readonly record struct Mark(long Epoch, long Version);

    private sealed record Entry(Member Member, long Epoch, long Version, DateTimeOffset Made);
}
