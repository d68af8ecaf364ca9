using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Audit;
using Pan.General.Admin;
using Pan.Server.Admin;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Admin;

/// <summary>
/// A database, a fake Google tokeninfo server and a Pan server using both, with two apps registered through the CLI
/// (jkforum may hand off to forum.example.com and 127.0.0.1, shop24h to shop.example.com). Shared by the apps,
/// hand-off, admin and CLI suites.
/// </summary>
public abstract class AdminFixture : IAsyncLifetime
{
    public const string InternalKey = "pan-tests-internal-key-0123456789abcdef";
    public const string ForumHost = "forum.example.com";
    public const string ShopHost = "shop.example.com";

    private PanServer? server;

    public FakeGoogleServer Google { get; private set; } = null!;

    public ITestDatabase Database { get; private set; } = null!;

    public PanServer Server => server ?? throw new InvalidOperationException("The server has not started.");

    public string ForumSecret { get; private set; } = string.Empty;

    public string ShopSecret { get; private set; } = string.Empty;

    public Dictionary<string, string?> Settings()
    {
        var settings = Google.Settings();
        settings["Pan:Internal:ApiKeys:0"] = InternalKey;
        return settings;
    }

    public async Task InitializeAsync()
    {
        Google = await FakeGoogleServer.StartAsync();
        Database = await CreateDatabaseAsync();
        server = await PanServer.StartAsync(Database, Settings());
        ForumSecret = PanCli.Secret(await RequireOk(PanCli.RunAsync(Database, "apps", "add", "jkforum", "--name", "JKForum", "--auth-host", $"{ForumHost},127.0.0.1")));
        ShopSecret = PanCli.Secret(await RequireOk(PanCli.RunAsync(Database, "apps", "add", "shop24h", "--name", "Shop 24h", "--auth-host", ShopHost)));
    }

    /// <summary>Another node on the same database and clock, with some settings changed (null removes a setting's value).</summary>
    public Task<PanServer> StartNodeAsync(IDictionary<string, string?> changes)
    {
        var settings = Settings();
        foreach (var (key, value) in changes)
        {
            settings[key] = value;
        }

        return PanServer.StartAsync(Database, settings, Server.Clock);
    }

    /// <summary>Allow-lists <paramref name="email"/> with <paramref name="roles"/> (comma-separated, may be empty).</summary>
    public async Task AddAdminAsync(string email, string roles)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AdminDirectory>().AddOrUpdateAsync(email, roles, default);
    }

    /// <summary>A new allow-listed admin signed in through GoogleLogin; returns (email, admin token).</summary>
    public async Task<(string Email, string Token)> SignInNewAdminAsync(string roles)
    {
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await AddAdminAsync(email, roles);
        var response = await new AdminService.AdminServiceClient(Server.Grpc).GoogleLoginAsync(new GoogleLoginRequest { AccessToken = Google.Issue(email) });
        return (email, response.AdminToken);
    }

    public async Task<List<AuditEntry>> AuditAsync(string action, string target)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<AuditEntry>()
            .Where(e => e.Action == action && e.Target == target).OrderBy(e => e.Id).ToListAsync();
    }

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        if (Google is not null)
        {
            await Google.DisposeAsync();
        }
    }

    /// <summary>A fresh, empty database of the fixture's provider (the caller disposes it).</summary>
    public Task<ITestDatabase> NewDatabaseAsync() => CreateDatabaseAsync();

    protected abstract Task<ITestDatabase> CreateDatabaseAsync();

    private static async Task<CliRun> RequireOk(Task<CliRun> run)
    {
        var result = await run;
        return result.ExitCode == 0 ? result : throw new InvalidOperationException($"CLI failed ({result.ExitCode}): {result.Error}{result.Output}");
    }
}

public sealed class SqliteAdminFixture : AdminFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresAdminFixture : AdminFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
