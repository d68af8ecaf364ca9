using System.Collections.Concurrent;

namespace Pan.Server.Data.Changes;

/// <summary>
/// Per-row change counters for one in-memory cache: every committed change the <see cref="DataChangeFeed"/> announces
/// bumps its row's version, and a copy is current while the versions it was read under are unchanged.
/// </summary>
/// <remarks>
/// Versions are forgotten only by starting a new <see cref="Epoch"/> — when more rows than <c>maxTracked</c> have
/// versions, or when the feed goes dark or comes back — which voids every copy and every mark taken before; the owner
/// drops its copies on <see cref="EpochStarted"/>.
/// </remarks>
public sealed class ChangedRowVersions : IDisposable
{
    private readonly ConcurrentDictionary<RowChange, long> versions = new();
    private readonly DataChangeFeed feed;
    private readonly Func<RowChange, bool> watched;
    private readonly int maxTracked;
    private long epoch;
    private long stamp;
    private int count;

    /// <param name="feed">Where the changes come from.</param>
    /// <param name="maxTracked">Versions kept before a new epoch starts.</param>
    /// <param name="watched">The rows that get versions (default: all); others still move <see cref="Stamp"/>.</param>
    public ChangedRowVersions(DataChangeFeed feed, int maxTracked, Func<RowChange, bool>? watched = null)
    {
        this.feed = feed;
        this.maxTracked = Math.Max(maxTracked, 1);
        this.watched = watched ?? (_ => true);
        feed.Changed += OnChanged;
        feed.LiveChanged += OnLiveChanged;
    }

    /// <summary>Raised after a new epoch started: every copy made before is void.</summary>
    public event Action? EpochStarted;

    /// <summary>Moves when versions are forgotten.</summary>
    public long Epoch => Interlocked.Read(ref epoch);

    /// <summary>Moves on every change heard (watched or not) and every new epoch.</summary>
    public long Stamp => Interlocked.Read(ref stamp);

    /// <summary>The row's version in this epoch (0 until a change to it is heard).</summary>
    public long VersionOf(RowChange row) => versions.TryGetValue(row, out var version) ? version : 0;

    public void Dispose()
    {
        feed.Changed -= OnChanged;
        feed.LiveChanged -= OnLiveChanged;
    }

    private void OnChanged(IReadOnlyCollection<RowChange> changes)
    {
        Interlocked.Increment(ref stamp);
        foreach (var change in changes)
        {
            if (!watched(change))
            {
                continue;
            }

            versions.AddOrUpdate(change, _ =>
            {
                Interlocked.Increment(ref count);
                return 1;
            }, (_, version) => version + 1);
        }

        if (Volatile.Read(ref count) > maxTracked)
        {
            StartEpoch();
        }
    }

    private void OnLiveChanged(bool live) => StartEpoch();

    private void StartEpoch()
    {
        // Why this order: a mark or store checked against the new epoch can no longer match an old version.
        Interlocked.Increment(ref epoch);
        Interlocked.Increment(ref stamp);
        versions.Clear();
        Volatile.Write(ref count, 0);
        EpochStarted?.Invoke();
    }
}
