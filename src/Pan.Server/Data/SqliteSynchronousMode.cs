using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Pan.Server.Data;

/// <summary>
/// Sets <c>PRAGMA synchronous</c> (<see cref="DatabaseOptions.SqliteSynchronous"/>) on every connection EF Core opens.
/// </summary>
/// <remarks>
/// Why per connection: the setting belongs to the native connection (it is not stored in the file), and
/// Microsoft.Data.Sqlite's pool hands the same native connection out again, so it is applied on each open, like
/// <see cref="SqliteBusyTimeout"/> (one short statement). Applied for <c>Full</c> too, so the behaviour does not
/// depend on the compile-time default of the SQLite build.
/// </remarks>
internal sealed class SqliteSynchronousMode : DbConnectionInterceptor
{
    public static readonly SqliteSynchronousMode Full = new("PRAGMA synchronous=FULL;");

    public static readonly SqliteSynchronousMode Normal = new("PRAGMA synchronous=NORMAL;");

    private readonly string pragma;

    private SqliteSynchronousMode(string pragma) => this.pragma = pragma;

    public static SqliteSynchronousMode For(SqliteSynchronous mode) => mode == SqliteSynchronous.Normal ? Normal : Full;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            SqliteException.ThrowExceptionForRC(SQLitePCL.raw.sqlite3_exec(handle, pragma), handle);
        }
    }
}
