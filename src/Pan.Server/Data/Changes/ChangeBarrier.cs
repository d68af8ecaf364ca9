using System.Collections.Concurrent;
using Npgsql;

namespace Pan.Server.Data.Changes;

/// <summary>
/// PostgreSQL: lets a committing call wait until every node's change listener has handled the changes it committed,
/// so that a revocation is refused by every node by the time the revoking call answers (SECURITY.md 12).
/// </summary>
/// <remarks>
/// After this node's own listener heard the commit, a barrier (<c>b:&lt;node&gt;:&lt;n&gt;</c>) is sent on
/// <see cref="PostgresChangeListener.Channel"/>. PostgreSQL delivers notifications to each listener in commit order, and
/// a listener handles them one after the other on its thread, so a listener that answers the barrier (on
/// <see cref="PostgresChangeListener.AckChannel"/>) has already dropped the copies the commit made stale. The call waits
/// for as many answers as there are listener sessions on the database. With one listener (this node alone) there is
/// nothing to wait for and no barrier is sent: the listener keeps <see cref="KnownListeners"/> current (counted every
/// few seconds, and at once when a new node announces itself), so a lone node pays no query for it. A listener that does not answer in time is logged and not waited for:
/// the write is committed either way, and that node's copies are still bounded by their maximum age.
/// </remarks>
internal sealed class ChangeBarrier(string connectionString, ILogger logger) : IDisposable
{
    private readonly string nodeId = Guid.NewGuid().ToString("N")[..12];
    private readonly ConcurrentDictionary<string, Waiter> waiting = new();
    private readonly NpgsqlDataSource dataSource = new NpgsqlDataSourceBuilder(connectionString).Build();
    private long sequence;
    private int knownListeners = 2;

    /// <summary>Listener sessions on the database as last counted by this node's listener (2 until first counted).</summary>
    public int KnownListeners
    {
        get => Volatile.Read(ref knownListeners);
        set => Volatile.Write(ref knownListeners, value);
    }

    /// <summary>The text a starting node sends on the change channel so that the others count again at once.</summary>
    public string Hello => "h:" + nodeId;

    /// <summary>Waits (at most <paramref name="timeout"/>) until every listener on the database has handled what this node committed before.</summary>
    public async Task WaitAllNodesAsync(TimeSpan timeout)
    {
        if (KnownListeners <= 1)
        {
            return;
        }

        var id = $"b:{nodeId}:{Interlocked.Increment(ref sequence)}";
        var waiter = new Waiter();
        waiting[id] = waiter;
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using (var count = new NpgsqlCommand(
                "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", connection))
            {
                count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PostgresChangeListener.ApplicationName });
                waiter.Needed = (int)(await count.ExecuteScalarAsync())!;
            }

            if (waiter.Needed <= 1)
            {
                return;
            }

            await using (var notify = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection))
            {
                notify.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PostgresChangeListener.Channel });
                notify.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
                await notify.ExecuteNonQueryAsync();
            }

            await waiter.Done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("{Answered} of {Listeners} change listeners answered a barrier in time; the others get the changes as their notifications arrive",
                waiter.Answered, waiter.Needed);
        }
        catch (NpgsqlException ex)
        {
            // Why not fail the call: its write is committed; the listeners still get the change, only not awaited here.
            logger.LogWarning("A change barrier could not be sent ({Error})", ex.Message);
        }
        finally
        {
            waiting.TryRemove(id, out _);
        }
    }

    /// <summary>A listener answered barrier <paramref name="id"/> (every node hears every answer; others' are ignored).</summary>
    public void Answered(string id)
    {
        if (waiting.TryGetValue(id, out var waiter) && Interlocked.Increment(ref waiter.Answered) >= Volatile.Read(ref waiter.Needed) && waiter.Needed > 0)
        {
            waiter.Done.TrySetResult();
        }
    }

    public void Dispose() => dataSource.Dispose();

    private sealed class Waiter
    {
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Needed;
        public int Answered;
    }
}
