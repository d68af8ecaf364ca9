using Npgsql;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// Statements of a PostgreSQL test database that wait for a lock (<c>pg_stat_activity</c>), so that a test can hold one
/// operation at a lock while it starts another. SQLite shows no waiting statement.
/// </summary>
public static class LockWaits
{
    /// <summary>
    /// Returns once <paramref name="other"/> has ended or, on PostgreSQL, at least <paramref name="count"/> connections to
    /// <paramref name="database"/> wait for a lock; true in the second case. On SQLite it returns false at once.
    /// </summary>
    public static async Task<bool> UntilAsync(ITestDatabase database, int count, Task other)
    {
        if (database.Provider != "postgres")
        {
            return false;
        }

        var waiting = false;
        await Eventually.HoldsAsync(async () => other.IsCompleted || (waiting = await CountAsync(database) >= count));
        return waiting && !other.IsCompleted;
    }

    /// <summary>On PostgreSQL, returns once no connection to <paramref name="database"/> waits for a lock (a cancelled waiter has given up); on SQLite at once.</summary>
    public static async Task UntilNoneAsync(ITestDatabase database)
    {
        if (database.Provider == "postgres")
        {
            await Eventually.HoldsAsync(async () => await CountAsync(database) == 0);
        }
    }

    private static async Task<int> CountAsync(ITestDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
