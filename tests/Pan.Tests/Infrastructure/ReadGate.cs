using Npgsql;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// On PostgreSQL, holds every statement on one table, reads included, until <see cref="OpenAsync"/>: this gate's own
/// connection takes the table's <c>ACCESS EXCLUSIVE</c> lock in an open transaction, which a plain <c>SELECT</c> waits
/// for. An operation that reads several tables in turn stops at its first read of this one and shows as a lock wait
/// (<see cref="LockWaits"/>), so a test can commit another change exactly between two of its reads. SQLite runs one
/// writer at a time and its transactions read one snapshot: there the gate holds nothing (<see cref="Holds"/> false).
/// Disposing opens the gate.
/// </summary>
public sealed class ReadGate : IAsyncDisposable
{
    private readonly NpgsqlConnection? connection;
    private readonly NpgsqlTransaction? transaction;
    private bool open;

    private ReadGate(NpgsqlConnection? connection, NpgsqlTransaction? transaction)
    {
        this.connection = connection;
        this.transaction = transaction;
        open = connection is null;
    }

    /// <summary>Whether the gate holds statements (PostgreSQL).</summary>
    public bool Holds => connection is not null;

    /// <param name="table">A table name (the test's constant, never input).</param>
    public static async Task<ReadGate> CloseAsync(ITestDatabase database, string table)
    {
        if (database.Provider != "postgres")
        {
            return new ReadGate(null, null);
        }

        var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var hold = new NpgsqlCommand($"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", connection, transaction);
        await hold.ExecuteNonQueryAsync();
        return new ReadGate(connection, transaction);
    }

    /// <summary>Lets the held statements (and every later one) through.</summary>
    public async Task OpenAsync()
    {
        if (open)
        {
            return;
        }

        open = true;
        await transaction!.RollbackAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is null)
        {
            return;
        }

        await OpenAsync();
        await transaction!.DisposeAsync();
        await connection.DisposeAsync();
    }
}
