using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using SQLitePCL;

namespace Pan.Server.Data.Changes;

/// <summary>
/// Collects the watched rows (<see cref="ChangedTable"/>) a connection updates or deletes (and members it inserts), and publishes them once they
/// are committed: after the transaction ends, or after an autocommit statement completed. Publishing after the commit is
/// what lets a cache refuse a copy read before it (see <c>AccessTokenCache</c>); publishing before would let a reader
/// that started between the write and the commit re-cache the old row.
/// </summary>
/// <remarks>
/// SQLite: <c>sqlite3_update_hook</c> on each connection EF Core opens reports every row written (rowid = uid / id for
/// these tables). PostgreSQL: the <c>pan_changes</c> triggers raise a NOTICE naming the row on the writing connection
/// (their NOTIFY reaches the other nodes). A rolled-back change is published too; dropping a copy that was still right
/// only costs a database read. On PostgreSQL an async commit also waits (briefly) until this node's listener has heard
/// it, so that a revocation has been sent to every node before the revoking call answers.
/// </remarks>
internal sealed class ChangeCaptureInterceptor(DataChangeFeed feed, string? sqliteKey) : DbConnectionInterceptor, IDbCommandInterceptor, IDbTransactionInterceptor
{
    /// <summary>Prefix of the NOTICE the PostgreSQL triggers raise (the migration ChangeNotifications).</summary>
    public const string NoticePrefix = "pan_changes ";

    /// <summary>Longest a committing call waits for its own node's listener to hear the commit.</summary>
    private static readonly TimeSpan HeardTimeout = TimeSpan.FromMilliseconds(500);

    private static readonly ConditionalWeakTable<DbConnection, Pending> PendingByConnection = new();

    private static readonly delegate_update OnSqliteUpdate = (state, type, _, table, rowid) =>
    {
        // Why inserts of members only: a new member changes the live-member count of its phone; a new session or
        // account changes nothing a cache holds.
        if (RowChange.FromTableName(table.utf8_to_string()) is { } watched && (type != raw.SQLITE_INSERT || watched == ChangedTable.Member))
        {
            ((Pending)state).Add(new RowChange(watched, rowid));
        }
    };

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Attach(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Attach(connection);
        return Task.CompletedTask;
    }

    public override InterceptionResult ConnectionClosing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        Detach(connection);
        return result;
    }

    public override ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        Detach(connection);
        return ValueTask.FromResult(result);
    }

    public override void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => Flush(connection);

    public override Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Flush(connection);
        return Task.CompletedTask;
    }

    int IDbCommandInterceptor.NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        FlushIfAutocommit(command);
        return result;
    }

    async ValueTask<int> IDbCommandInterceptor.NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken)
    {
        await WaitHeardAsync(FlushIfAutocommit(command));
        return result;
    }

    object? IDbCommandInterceptor.ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        FlushIfAutocommit(command);
        return result;
    }

    async ValueTask<object?> IDbCommandInterceptor.ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken)
    {
        await WaitHeardAsync(FlushIfAutocommit(command));
        return result;
    }

    async ValueTask<InterceptionResult> IDbCommandInterceptor.DataReaderClosingAsync(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        // Why: an autocommit write read through a data reader (SaveChanges' UPDATE … RETURNING) is published when the
        // reader is disposed, which has no async hook; wait here for the listener to hear it (it can only hear it
        // after the commit), so that it has reached every node before the call answers.
        if (sqliteKey is null && command.Transaction is null && command.Connection is { } connection
            && PendingByConnection.TryGetValue(connection, out var pending) && pending.Peek() is { } changes)
        {
            await feed.WaitHeardAsync(changes, HeardTimeout);
        }

        return result;
    }

    InterceptionResult IDbCommandInterceptor.DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        // Why: an autocommit statement read through a data reader (INSERT … RETURNING, UPDATE … RETURNING) is complete
        // only once its reader is done.
        FlushIfAutocommit(command);
        return result;
    }

    void IDbTransactionInterceptor.TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Flush(eventData, committed: true);

    Task IDbTransactionInterceptor.TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken) =>
        WaitHeardAsync(Flush(eventData, committed: true));

    void IDbTransactionInterceptor.TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Flush(eventData, committed: false);

    Task IDbTransactionInterceptor.TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        Flush(eventData, committed: false);
        return Task.CompletedTask;
    }

    private void Attach(DbConnection connection)
    {
        var pending = PendingByConnection.GetValue(connection, c => Pending.For(c, feed));
        if (connection is SqliteConnection { Handle: { } handle })
        {
            // Why on every open: the native connection behind a SqliteConnection comes from Microsoft.Data.Sqlite's
            // pool and may differ from the last one.
            raw.sqlite3_update_hook(handle, OnSqliteUpdate, pending);
        }
    }

    private void Detach(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            // Why: the native connection goes back to the pool, where a non-EF user must not fill this buffer.
            raw.sqlite3_update_hook(handle, (delegate_update?)null, null);
        }

        Flush(connection);
    }

    private HashSet<RowChange>? FlushIfAutocommit(DbCommand command) =>
        command.Transaction is null && command.Connection is { } connection ? Flush(connection) : null;

    private HashSet<RowChange>? Flush(TransactionEndEventData eventData, bool committed) =>
        eventData.Context is { } context ? Flush(context.Database.GetDbConnection(), committed) : null;

    private HashSet<RowChange>? Flush(DbConnection connection, bool committed = true)
    {
        if (!PendingByConnection.TryGetValue(connection, out var pending) || pending.Take() is not { } changes)
        {
            return null;
        }

        if (sqliteKey is not null)
        {
            SqliteChangeBus.Publish(sqliteKey, changes);
            return null;
        }

        feed.Publish(changes);
        if (!committed)
        {
            feed.Forget(changes);
            return null;
        }

        return changes;
    }

    /// <summary>PostgreSQL: returns once this node's listener heard the committed changes (see <see cref="DataChangeFeed.WaitHeardAsync"/>).</summary>
    private Task WaitHeardAsync(HashSet<RowChange>? committed) =>
        committed is null ? Task.CompletedTask : feed.WaitHeardAsync(committed, HeardTimeout);

    /// <summary>Rows one connection changed since its last flush.</summary>
    private sealed class Pending
    {
        private readonly Lock gate = new();
        private HashSet<RowChange>? changes;

        public static Pending For(DbConnection connection, DataChangeFeed feed)
        {
            var pending = new Pending();
            if (connection is NpgsqlConnection npgsql)
            {
                npgsql.Notice += (_, e) =>
                {
                    var text = e.Notice.MessageText;
                    if (text.StartsWith(NoticePrefix, StringComparison.Ordinal) && RowChange.TryParse(text.AsSpan(NoticePrefix.Length), out var change))
                    {
                        pending.Add(change);
                        feed.Expect(change);
                    }
                };
            }

            return pending;
        }

        public void Add(RowChange change)
        {
            lock (gate)
            {
                (changes ??= []).Add(change);
            }
        }

        public RowChange[]? Peek()
        {
            lock (gate)
            {
                return changes is { Count: > 0 } ? [.. changes] : null;
            }
        }

        public HashSet<RowChange>? Take()
        {
            lock (gate)
            {
                var taken = changes;
                changes = null;
                return taken;
            }
        }
    }
}
