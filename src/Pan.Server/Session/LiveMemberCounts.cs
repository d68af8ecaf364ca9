using System.Collections.Concurrent;
using Pan.Server.Data.Changes;

namespace Pan.Server.Session;

/// <summary>
/// This node's remembered live-member counts per phone (Me's can_new_child), reused until any member row changes
/// anywhere (<see cref="DataChangeFeed.MembersEpoch"/>). Coarse on purpose: a count is cheap to re-read, and tying it
/// to every member change needs no knowledge of which phone a change belongs to.
/// </summary>
public sealed class LiveMemberCounts(DataChangeFeed feed)
{
    private const int Capacity = 100_000;

    private readonly ConcurrentDictionary<long, int> counts = new();
    private long epochOfCounts = -1;

    /// <summary>Take before reading the count from the database; pass to <see cref="Remember"/>.</summary>
    public long Epoch => feed.MembersEpoch;

    public bool TryGet(long accountId, out int count)
    {
        count = 0;
        var epoch = feed.MembersEpoch;
        return feed.Live && Interlocked.Read(ref epochOfCounts) == epoch && counts.TryGetValue(accountId, out count)
            && feed.MembersEpoch == epoch;
    }

    /// <summary>Keeps a count read after <paramref name="epochBeforeRead"/>, unless a member changed since.</summary>
    public void Remember(long accountId, int count, long epochBeforeRead)
    {
        if (!feed.Live || feed.MembersEpoch != epochBeforeRead)
        {
            return;
        }

        lock (counts)
        {
            if (Interlocked.Read(ref epochOfCounts) != epochBeforeRead || counts.Count >= Capacity)
            {
                // Why: every count remembered under an older epoch is dead; forget them before starting the new set.
                Interlocked.Exchange(ref epochOfCounts, -1);
                counts.Clear();
            }

            counts[accountId] = count;
            Interlocked.Exchange(ref epochOfCounts, epochBeforeRead);
        }
    }
}
