using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Pan.Server.Data;

/// <summary>
/// Lets SQLite itself wait for the write lock (<c>sqlite3_busy_timeout</c>) on every connection EF Core opens.
/// </summary>
/// <remarks>
/// Why: without a busy timeout SQLite answers SQLITE_BUSY at once when another connection is writing, and
/// Microsoft.Data.Sqlite then blocks the calling thread-pool thread in <c>Thread.Sleep(150)</c> before retrying. Under
/// concurrent sign-ins every write queues behind those fixed 150 ms sleeps (seconds at p99) and the blocked threads
/// starve the pool. SQLite's own handler polls in 1–100 ms steps and returns as soon as the lock is free. The setting
/// belongs to the native connection, which the pool reuses, so it is applied on each open (a single native call).
/// </remarks>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    /// <summary>How long one statement waits for the write lock before SQLite reports BUSY.</summary>
    public const int Milliseconds = 5_000;

    public static readonly SqliteBusyTimeout Instance = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    /// <summary>Sets the busy timeout on an open SQLite connection (no-op for other providers).</summary>
    internal static void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            SqliteException.ThrowExceptionForRC(SQLitePCL.raw.sqlite3_busy_timeout(handle, Milliseconds), handle);
        }
    }
}
