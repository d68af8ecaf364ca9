using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// A connection of the test's own inside a transaction that holds what a server's write needs: SQLite's write lock
/// (<c>BEGIN IMMEDIATE</c>), or on PostgreSQL a lock on <c>table</c>, EXCLUSIVE unless told (reads go through, writes
/// wait; ACCESS EXCLUSIVE also waits for, and then holds off, every transaction that read the table).
/// Disposing it without <see cref="CommitAsync"/> rolls back.
/// </summary>
/// <remarks>
/// Why the explicit rollback: a transaction begun by plain SQL is unknown to the provider, and a pooled SQLite connection
/// would go back to the pool still holding the write lock.
/// </remarks>
public sealed class DatabaseLock : IAsyncDisposable
{
    private readonly DbConnection connection;
    private bool ended;

    private DatabaseLock(DbConnection connection) => this.connection = connection;

    public static Task<DatabaseLock> HoldAsync(ITestDatabase database, string table, string postgresMode = "EXCLUSIVE") =>
        BeginAsync(database, $"BEGIN; LOCK TABLE {table} IN {postgresMode} MODE");

    /// <summary>
    /// Like <see cref="HoldAsync"/>, but on PostgreSQL only the rows of <paramref name="table"/> matching
    /// <paramref name="condition"/> (<c>FOR UPDATE</c>: their updates wait, and the waiters get the row in the order
    /// they came, so a test can choose which of two writers goes first). <paramref name="strength"/> <c>KEY SHARE</c>
    /// holds them only against deletes (and key changes): an update of their other columns goes through.
    /// </summary>
    public static Task<DatabaseLock> HoldRowsAsync(ITestDatabase database, string table, string condition, string strength = "UPDATE") =>
        BeginAsync(database, $"BEGIN; SELECT 1 FROM {table} WHERE {condition} FOR {strength}");

    private static async Task<DatabaseLock> BeginAsync(ITestDatabase database, string postgres)
    {
        DbConnection connection = database.Provider == "postgres"
            ? new NpgsqlConnection(database.ConnectionString)
            : new SqliteConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var begin = connection.CreateCommand();
        begin.CommandText = database.Provider == "postgres" ? postgres : "BEGIN IMMEDIATE";
        await begin.ExecuteNonQueryAsync();
        return new DatabaseLock(connection);
    }

    /// <summary>Ends the transaction with a commit, letting the writes waiting for it through.</summary>
    public Task CommitAsync() => EndAsync("COMMIT");

    public async ValueTask DisposeAsync()
    {
        await EndAsync("ROLLBACK");
        await connection.DisposeAsync();
    }

    private async Task EndAsync(string statement)
    {
        if (ended)
        {
            return;
        }

        ended = true;
        await using var end = connection.CreateCommand();
        end.CommandText = statement;
        await end.ExecuteNonQueryAsync();
    }
}
