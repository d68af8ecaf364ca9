using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Pan.Server.Data.Changes;

namespace Pan.Server.Data;

/// <summary>
/// SQLite only: lets one EF Core transaction at a time per database file (per process) begin, and makes the others
/// wait for their turn asynchronously, in arrival order, instead of inside SQLite's busy handler.
/// </summary>
/// <remarks>
/// Why: Microsoft.Data.Sqlite begins every transaction with <c>BEGIN IMMEDIATE</c>, so each one takes the single write
/// lock at its start. Without the gate a waiter blocks its thread-pool thread in SQLite's busy handler (sleeps of
/// 1–100 ms) and may be asleep when the lock frees; with it the waiter holds no thread and is handed the turn the
/// moment the previous transaction ends.
/// <para>
/// The gate is taken in <c>TransactionStarting</c> and given back when the transaction commits, rolls back or fails,
/// and in any case when its connection closes or is disposed: a transaction disposed without commit or rollback (an
/// exception inside <c>await using var transaction</c>, SaveChanges' own transaction after a failed command) raises no
/// transaction event, but EF Core closes the connection it opened for it (and SQLite itself rolls back only then).
/// Giving back is idempotent per connection. Giving back early is harmless (SQLite still holds its own lock); only a
/// turn never given back would hurt, so a waiter also stops waiting after <see cref="SqliteBusyTimeout.Milliseconds"/>
/// and begins without the gate, leaving the decision to SQLite's busy timeout as before.
/// </para>
/// <para>
/// Autocommit statements outside a transaction are not gated; they meet the lock in SQLite's busy handler as before.
/// </para>
/// </remarks>
internal sealed class SqliteWriteGate : DbConnectionInterceptor, IDbTransactionInterceptor
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMilliseconds(SqliteBusyTimeout.Milliseconds);

    /// <summary>One gate per database file, shared by every server of the process on that file.</summary>
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    private static readonly ConditionalWeakTable<DbConnection, Turn> Turns = new();

    private readonly SemaphoreSlim gate;

    private SqliteWriteGate(SemaphoreSlim gate) => this.gate = gate;

    /// <summary>The gate of the file a SQLite connection string names; null for in-memory databases (one per connection).</summary>
    public static SqliteWriteGate? For(string connectionString)
    {
        var key = SqliteChangeBus.KeyOf(connectionString);
        return string.IsNullOrEmpty(key) || key == ":memory:" || connectionString.Contains("Mode=Memory", StringComparison.OrdinalIgnoreCase)
            ? null
            : new SqliteWriteGate(Gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1)));
    }

    /// <summary>Whether the gate of the file <paramref name="connectionString"/> names is free; null when it has none (yet).</summary>
    internal static bool? IsFree(string connectionString) =>
        Gates.TryGetValue(SqliteChangeBus.KeyOf(connectionString), out var gate) ? gate.CurrentCount == 1 : null;

    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        var turn = Turns.GetValue(connection, _ => new Turn());
        if (!turn.Held && await gate.WaitAsync(WaitLimit, cancellationToken))
        {
            turn.Take(gate);
        }

        return result;
    }

    public InterceptionResult<DbTransaction> TransactionStarting(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        var turn = Turns.GetValue(connection, _ => new Turn());
        if (!turn.Held && gate.Wait(WaitLimit))
        {
            turn.Take(gate);
        }

        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => GiveBack(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        GiveBack(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => GiveBack(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        GiveBack(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => GiveBack(eventData.Context);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        GiveBack(eventData.Context);
        return Task.CompletedTask;
    }

    // Why the connection events too: see the remarks (a disposed transaction raises no transaction event).
    public override InterceptionResult ConnectionClosing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        GiveBack(connection);
        return result;
    }

    public override ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        GiveBack(connection);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult ConnectionDisposing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        GiveBack(connection);
        return result;
    }

    public override ValueTask<InterceptionResult> ConnectionDisposingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        GiveBack(connection);
        return ValueTask.FromResult(result);
    }

    private static void GiveBack(DbContext? context)
    {
        if (context is not null)
        {
            GiveBack(context.Database.GetDbConnection());
        }
    }

    private static void GiveBack(DbConnection connection)
    {
        if (Turns.TryGetValue(connection, out var turn))
        {
            turn.GiveBack();
        }
    }

    /// <summary>The gate a connection holds, if any. A connection is used by one caller at a time.</summary>
    private sealed class Turn
    {
        private SemaphoreSlim? held;

        public bool Held => Volatile.Read(ref held) is not null;

        public void Take(SemaphoreSlim gate) => Volatile.Write(ref held, gate);

        /// <summary>Idempotent: only the first call after <see cref="Take"/> releases.</summary>
        public void GiveBack() => Interlocked.Exchange(ref held, null)?.Release();
    }
}
