using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Server.Hosting;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// <c>Pan:Database:SqliteSynchronous</c> reaches every SQLite connection the server opens, and a bad value stops the
/// server at start-up. (SQLite only: the setting means nothing to PostgreSQL.)
/// </summary>
public sealed class SqliteSynchronousTests : IAsyncDisposable
{
    private readonly SqliteTestDatabase database = new();

    [Theory]
    [InlineData(null, 2)]
    [InlineData("Full", 2)]
    [InlineData("Normal", 1)]
    [InlineData("normal", 1)]
    public async Task Setting_IsTheSynchronousModeOfEveryConnection(string? setting, long expected)
    {
        await using var app = Build(setting);
        await app.StartAsync();

        // Why several scopes at once: each holds its own pooled connection, so more than one native connection is checked.
        var scopes = Enumerable.Range(0, 3).Select(_ => app.Services.CreateAsyncScope()).ToList();
        try
        {
            foreach (var scope in scopes)
            {
                var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
                await db.Database.OpenConnectionAsync();
                var mode = await db.Database.SqlQueryRaw<long>("SELECT synchronous AS \"Value\" FROM pragma_synchronous").SingleAsync();
                var journal = await db.Database.SqlQueryRaw<string>("SELECT journal_mode AS \"Value\" FROM pragma_journal_mode").SingleAsync();
                Assert.Equal(expected, mode);
                Assert.Equal("wal", journal);
            }
        }
        finally
        {
            foreach (var scope in scopes)
            {
                await scope.DisposeAsync();
            }
        }

        await app.StopAsync();
    }

    [Theory]
    [InlineData("Off")]
    [InlineData("7")]
    public async Task UnknownSetting_RefusesToStart_NamingIt(string setting)
    {
        await using var app = Build(setting);
        var failure = await Record.ExceptionAsync(() => app.StartAsync());

        Assert.NotNull(failure);
        Assert.Contains("Pan:Database:SqliteSynchronous", failure.ToString(), StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();

    private WebApplication Build(string? synchronous)
    {
        var values = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Grpc:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
            ["ConnectionStrings:Pan"] = database.ConnectionString,
            ["Pan:Database:Provider"] = "sqlite",
            ["Pan:Database:SqliteSynchronous"] = synchronous,
            ["Pan:Hashids:Salt"] = "pan-tests-salt",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:Console:FormatterName"] = "simple",
        };
        return PanApp.Build(["--environment=Development"], builder => builder.Configuration.AddInMemoryCollection(values));
    }
}
