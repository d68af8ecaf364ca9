using System.Collections.Concurrent;

namespace Pan.Server.Data.Changes;

/// <summary>
/// This node's view of committed changes to the rows its caches copy (members, accounts, auth sessions), whoever made
/// them: this node, another node, or someone with a SQL prompt. Caches subscribe to <see cref="Changed"/> and may only
/// keep copies while <see cref="Live"/> is true.
/// </summary>
/// <remarks>
/// Sources: on PostgreSQL, triggers on the three tables <c>NOTIFY pan_changes</c> (heard by every node's
/// <see cref="PostgresChangeListener"/>) and raise a NOTICE on the writing connection (heard at once by the writing
/// node's <see cref="ChangeCaptureInterceptor"/>). On SQLite, the interceptor's update hook sees every row the process
/// writes through EF Core and publishes after the commit to every feed on the same database file in the process
/// (<see cref="SqliteChangeBus"/>); a SQLite database therefore belongs to one Pan process (README "Running several nodes").
/// </remarks>
public sealed class DataChangeFeed : IDisposable
{
    private readonly ConcurrentDictionary<RowChange, TaskCompletionSource> expected = new();
    private int live;
    private long membersEpoch;

    /// <summary>
    /// PostgreSQL: waits until every node's listener has handled what this node committed before (see
    /// <see cref="ChangeBarrier"/>); set by the listener. SQLite needs none: its bus publishes to every feed at once.
    /// </summary>
    internal Func<TimeSpan, Task>? AllNodesHeard { get; set; }

    /// <summary>Runs on the listener thread before it hands heard changes on (tests use it to play a slow node).</summary>
    internal Action? BeforeHandlingHeard { get; set; }

    /// <summary>What feeds this instance (the SQLite bus subscription), ended with it.</summary>
    internal IDisposable? Source { get; set; }

    /// <summary>Committed (or rolled back) changes; handlers run on the publishing thread and must be quick.</summary>
    public event Action<IReadOnlyCollection<RowChange>>? Changed;

    /// <summary>Raised on every <see cref="SetLive"/> (also true after true: a reconnected listener may have missed changes); caches drop what they hold.</summary>
    public event Action<bool>? LiveChanged;

    /// <summary>True while every change made anywhere is sure to reach <see cref="Changed"/>.</summary>
    public bool Live => Volatile.Read(ref live) == 1;

    /// <summary>
    /// Moves whenever a member row is inserted, updated or deleted anywhere, and when <see cref="Live"/> is set: a value
    /// derived from the members table may be reused while this has not moved since before it was read.
    /// </summary>
    public long MembersEpoch => Interlocked.Read(ref membersEpoch);

    public void Publish(IReadOnlyCollection<RowChange> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }

        if (changes.Any(c => c.Table == ChangedTable.Member))
        {
            Interlocked.Increment(ref membersEpoch);
        }

        Changed?.Invoke(changes);
    }

    /// <summary>The PostgreSQL listener heard these changes: publish them and release the writers waiting for them.</summary>
    public void PublishHeard(IReadOnlyCollection<RowChange> changes)
    {
        BeforeHandlingHeard?.Invoke();
        Publish(changes);
        foreach (var change in changes)
        {
            if (expected.TryRemove(change, out var waiter))
            {
                waiter.TrySetResult();
            }
        }
    }

    /// <summary>A connection of this node is changing <paramref name="change"/>; its commit will be heard by the listener.</summary>
    public void Expect(RowChange change) =>
        expected.GetOrAdd(change, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>The transaction that made these changes rolled back: nothing will be heard of them.</summary>
    public void Forget(IEnumerable<RowChange> changes)
    {
        foreach (var change in changes)
        {
            if (expected.TryRemove(change, out var waiter))
            {
                waiter.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) until this node's listener has heard the committed
    /// <paramref name="changes"/>, then (at most <paramref name="timeout"/> again) until every other node's listener has
    /// handled them (<see cref="AllNodesHeard"/>): the revoking call returns after that.
    /// </summary>
    public async Task WaitHeardAsync(IEnumerable<RowChange> changes, TimeSpan timeout)
    {
        if (!Live)
        {
            return;
        }

        var waits = changes.Select(c => expected.TryGetValue(c, out var waiter) ? waiter.Task : Task.CompletedTask).Where(t => !t.IsCompleted).ToList();
        if (waits.Count > 0)
        {
            try
            {
                await Task.WhenAll(waits).WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                // Why: a lost listener is handled by SetLive(false); the write itself is committed and stays so.
                return;
            }
        }

        if (AllNodesHeard is { } allNodes)
        {
            await allNodes(timeout);
        }
    }

    public void SetLive(bool value)
    {
        Volatile.Write(ref live, value ? 1 : 0);
        Interlocked.Increment(ref membersEpoch);
        LiveChanged?.Invoke(value);
    }

    public void Dispose() => Source?.Dispose();
}
