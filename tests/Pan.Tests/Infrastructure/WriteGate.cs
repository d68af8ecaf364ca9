using System.Globalization;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pan.Data;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// On PostgreSQL, holds one kind of write to one table (of the rows matching a condition) at a BEFORE trigger until
/// <see cref="OpenAsync"/>: the trigger waits for an advisory lock this gate's own connection holds. The held statement
/// waits inside the server's transaction, keeping every lock that transaction took, and shows as a lock wait
/// (<see cref="LockWaits"/>), so a test can run another operation exactly then. SQLite runs one writer at a time and
/// has nothing to wait on here: there the gate holds nothing (<see cref="Holds"/> false). Disposing opens the gate and
/// drops the trigger (which waits for the transactions that used the table).
/// </summary>
/// <remarks>
/// Why not a table or row lock: a statement waiting for one is let through together with every other statement waiting
/// for it, in no set order; the trigger holds this one statement alone, and the others go on.
/// </remarks>
public sealed class WriteGate : IAsyncDisposable
{
    private readonly PanServer server;
    private readonly NpgsqlConnection? connection;
    private readonly long key;
    private readonly string[] drop;
    private bool open;

    private WriteGate(PanServer server, NpgsqlConnection? connection, long key, string[] drop)
    {
        this.server = server;
        this.connection = connection;
        this.key = key;
        this.drop = drop;
        open = connection is null;
    }

    /// <summary>Whether the gate holds writes (PostgreSQL).</summary>
    public bool Holds => connection is not null;

    /// <param name="when">An SQL condition over <c>NEW</c> (insert) or <c>OLD</c> (update, delete), e.g. <see cref="FailureTriggers.UidIs"/>.</param>
    public static async Task<WriteGate> CloseAsync(PanServer server, ITestDatabase database, string table, TriggeredWrite write, string when)
    {
        if (database.Provider != "postgres")
        {
            return new WriteGate(server, null, 0, []);
        }

        var key = RandomNumberGenerator.GetInt32(1, int.MaxValue) + 0x5057_0000_0000L;
        var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using (var hold = new NpgsqlCommand($"SELECT pg_advisory_lock({key.ToString(CultureInfo.InvariantCulture)})", connection))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var name = $"test_gate_{table}_{Guid.NewGuid().ToString("N")[..12]}";
        var row = write == TriggeredWrite.Delete ? "OLD" : "NEW";
        await ExecuteAsync(server,
        [
            $"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
            $"PERFORM pg_advisory_lock_shared({key}); PERFORM pg_advisory_unlock_shared({key}); RETURN {row}; END $$",
            $"CREATE TRIGGER {name} BEFORE {write.ToString().ToUpperInvariant()} ON {table} FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {name}()",
        ]);
        return new WriteGate(server, connection, key, [$"DROP TRIGGER {name} ON {table}", $"DROP FUNCTION {name}()"]);
    }

    /// <summary>Lets the held write (and every later one) through.</summary>
    public async Task OpenAsync()
    {
        if (open)
        {
            return;
        }

        open = true;
        await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({key.ToString(CultureInfo.InvariantCulture)})", connection);
        await release.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is null)
        {
            return;
        }

        await OpenAsync();
        await connection.DisposeAsync();
        await ExecuteAsync(server, drop);
    }

    private static async Task ExecuteAsync(PanServer server, string[] statements)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        foreach (var sql in statements)
        {
            await db.Database.ExecuteSqlRawAsync(sql);
        }
    }
}
