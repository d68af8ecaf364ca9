namespace Pan.Tests.Infrastructure;

/// <summary>
/// A class fixture owning one database and one server on it. Behaviour suites are written once against
/// <see cref="ServerFixture"/> and run through a SQLite and a PostgreSQL subclass.
/// </summary>
public abstract class ServerFixture : IAsyncLifetime
{
    private PanServer? server;

    public ITestDatabase Database { get; private set; } = null!;

    public PanServer Server => server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>Settings every server of this fixture gets (overridden per suite).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>Where the server's fake clock starts (null: PanServer's fixed default).</summary>
    protected virtual DateTimeOffset? ClockStart => null;

    /// <summary>Changes the fixture server's host before it starts (e.g. adds a log provider); nothing by default.</summary>
    protected virtual void ConfigureServer(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
    {
    }

    public virtual async Task InitializeAsync()
    {
        Database = await CreateDatabaseAsync();
        server = await PanServer.StartAsync(Database, Settings, ClockStart is { } start ? new Microsoft.Extensions.Time.Testing.FakeTimeProvider(start) : null,
            ConfigureServer);
    }

    /// <summary>Starts one more server (another node) on the same database.</summary>
    public Task<PanServer> StartNodeAsync(IDictionary<string, string?>? settings = null) =>
        PanServer.StartAsync(Database, settings ?? Settings);

    public virtual async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }

    protected abstract Task<ITestDatabase> CreateDatabaseAsync();
}

public class SqliteServerFixture : ServerFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public class PostgresServerFixture : ServerFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
