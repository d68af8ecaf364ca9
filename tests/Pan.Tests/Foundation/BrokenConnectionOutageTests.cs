using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Pan.Server.Data;
using Pan.Server.Errors;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// PostgreSQL, with the real driver: every failure a connection raises once the database dropped it (through a
/// <see cref="TcpRelay"/> that is cut) is an outage for <see cref="ErrorInterceptor.IsOutage"/> (UNAVAILABLE, apinode
/// −30), including the ones Npgsql raises for a later use of that connection in the same operation.
/// </summary>
public sealed class BrokenConnectionOutageTests
{
    [Fact]
    public async Task EveryUseOfAConnectionTheDatabaseDropped_IsAnOutage()
    {
        var (relay, cs) = Relayed();
        await using var _ = relay;
        await using var db = new Context(Options(cs));
        await using var transaction = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlRawAsync("SELECT 1");
        relay.Cut();

        var failures = new List<Exception?>
        {
            await Record.ExceptionAsync(() => RawAsync(db, transaction)),
            // The same operation goes on with the connection it holds: a raw command in the transaction, EF's own
            // command, the commit.
            await Record.ExceptionAsync(() => RawAsync(db, transaction)),
            await Record.ExceptionAsync(() => db.Database.ExecuteSqlRawAsync("SELECT 1")),
            await Record.ExceptionAsync(() => transaction.CommitAsync()),
        };

        Assert.All(failures, f => Assert.True(f is not null && ErrorInterceptor.IsOutage(f), Describe(f)));
    }

    [Fact]
    public void AClosedConnectionUsedByMistake_IsNoOutage()
    {
        using var connection = new NpgsqlConnection("Host=127.0.0.1;Database=pan");
        using var command = new NpgsqlCommand("SELECT 1", connection);

        var misuse = Assert.Throws<InvalidOperationException>(() => command.ExecuteScalar());

        Assert.False(ErrorInterceptor.IsOutage(misuse), Describe(misuse));
    }

    private static (TcpRelay Relay, string ConnectionString) Relayed()
    {
        var admin = Environment.GetEnvironmentVariable(PostgresTestDatabase.Variable)
            ?? throw new InvalidOperationException(PostgresTestDatabase.Variable + " is not set.");
        var builder = new NpgsqlConnectionStringBuilder(admin);
        var relay = TcpRelay.Start(builder.Host!, builder.Port);
        builder.Host = "127.0.0.1";
        builder.Port = relay.Port;
        return (relay, builder.ConnectionString);
    }

    private static DbContextOptions<Context> Options(string connectionString)
    {
        var options = new DbContextOptionsBuilder<Context>();
        DatabaseServiceCollectionExtensions.Configure(options, "postgres", connectionString);
        return options.Options;
    }

    /// <summary>A command on the context's connection in its transaction, as Pan's row holds run it.</summary>
    private static async Task RawAsync(Context db, IDbContextTransaction transaction)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = transaction.GetDbTransaction();
        command.CommandText = "SELECT 1";
        await command.ExecuteScalarAsync();
    }

    private static string Describe(Exception? failure)
    {
        var chain = new List<string>();
        for (var e = failure; e is not null; e = e.InnerException)
        {
            chain.Add($"{e.GetType().FullName} [{e.Source}]: {e.Message}");
        }

        return failure is null ? "no failure" : string.Join(" <- ", chain) + "\n" + failure.StackTrace;
    }

    private sealed class Context(DbContextOptions<Context> options) : DbContext(options);
}
