using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Pan.Server.Data;

/// <summary>
/// A SQLite connection that only reads, for a hot statement stepped by one caller at a time
/// (<see cref="SqliteRowReader"/>): <c>query_only</c>, Pan's busy handler, never pooled and never handed to EF Core,
/// and opened without SQLite's per-connection mutex.
/// </summary>
/// <remarks>
/// Why without the mutex: in SQLite's default (serialized) mode every call on a connection locks and unlocks its
/// mutex, each column read included; on ReadObject over a million members that was about 5 % of the server's time
/// (BENCHMARKS.md). Microsoft.Data.Sqlite cannot open a connection without it, so the file is first opened as the
/// connection string says (path, mode, data directory resolved by Microsoft.Data.Sqlite), and the file SQLite reports
/// for it is opened a second time through SQLite itself with <c>SQLITE_OPEN_NOMUTEX</c>; the first connection is then
/// closed. An in-memory database has no file and keeps the first connection. Not thread-safe: one caller at a time.
/// </remarks>
internal sealed class SqliteReadConnection : IDisposable
{
    private readonly SqliteConnection? connection;
    private readonly sqlite3? native;

    /// <summary>Opens the database <paramref name="connectionString"/> names.</summary>
    public SqliteReadConnection(string connectionString)
    {
        // Why unpooled: query_only stays on the native connection; it must never be handed to EF Core for writes.
        var options = new SqliteConnectionStringBuilder(connectionString) { Pooling = false };
        connection = new SqliteConnection(options.ConnectionString);
        try
        {
            connection.Open();
            Handle = connection.Handle!;
            var file = raw.sqlite3_db_filename(Handle, "main").utf8_to_string();
            if (!string.IsNullOrEmpty(file))
            {
                var vfs = string.IsNullOrWhiteSpace(options.Vfs) ? null : options.Vfs;
                var rc = raw.sqlite3_open_v2(file, out native, raw.SQLITE_OPEN_READWRITE | raw.SQLITE_OPEN_NOMUTEX, vfs);
                SqliteException.ThrowExceptionForRC(rc, native);
                connection.Dispose();
                connection = null;
                Handle = native;
            }

            SqliteBusyTimeout.Apply(Handle);
            SqliteException.ThrowExceptionForRC(raw.sqlite3_exec(Handle, "PRAGMA query_only = ON;"), Handle);
        }
        catch
        {
            native?.Dispose();
            connection?.Dispose();
            throw;
        }
    }

    /// <summary>The native connection; valid until <see cref="Dispose"/>.</summary>
    public sqlite3 Handle { get; }

    public void Dispose()
    {
        native?.Dispose();
        connection?.Dispose();
    }
}
