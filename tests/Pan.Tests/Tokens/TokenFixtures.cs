using Microsoft.Extensions.Time.Testing;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Tokens;

/// <summary>A server fixture that can also make fresh databases, for tests that move their own clock far ahead.</summary>
public interface IIsolatedServers
{
    /// <summary>A new server on a new, empty database of the fixture's provider, with its own clock.</summary>
    Task<IsolatedServer> StartIsolatedAsync(IDictionary<string, string?>? settings = null, FakeTimeProvider? clock = null);
}

/// <summary>A server on its own database; disposing it stops the server and drops the database.</summary>
public sealed class IsolatedServer(PanServer server, ITestDatabase database) : IAsyncDisposable
{
    public PanServer Server { get; } = server;

    public ITestDatabase Database { get; } = database;

    /// <summary>Another node on the same database, sharing <paramref name="clock"/> (default: this server's clock).</summary>
    public Task<PanServer> StartNodeAsync(IDictionary<string, string?>? settings = null, FakeTimeProvider? clock = null) =>
        PanServer.StartAsync(Database, settings, clock ?? Server.Clock);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public sealed class TokensSqliteFixture : SqliteServerFixture, IIsolatedServers
{
    public async Task<IsolatedServer> StartIsolatedAsync(IDictionary<string, string?>? settings = null, FakeTimeProvider? clock = null)
    {
        var database = await CreateDatabaseAsync();
        return new IsolatedServer(await PanServer.StartAsync(database, settings, clock), database);
    }
}

public sealed class TokensPostgresFixture : PostgresServerFixture, IIsolatedServers
{
    public async Task<IsolatedServer> StartIsolatedAsync(IDictionary<string, string?>? settings = null, FakeTimeProvider? clock = null)
    {
        var database = await CreateDatabaseAsync();
        return new IsolatedServer(await PanServer.StartAsync(database, settings, clock), database);
    }
}
