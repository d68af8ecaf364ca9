using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pan.General.Admin;
using Pan.Server.Admin;
using Pan.Tests.Infrastructure;
using Pan.Tests.Keys;

namespace Pan.Tests.Apps;

/// <summary>
/// A server whose apps' event endpoints are a real HTTP server on loopback (<see cref="AppEventInbox"/>), with stored
/// keys wrapped (<c>Pan:Keys:EncryptionKey</c>). <see cref="SubscribedApps"/> are subscribed through the operator CLI at
/// start, with the secrets it printed; every other app is not. The event outbox polls often and retries a failed
/// delivery after 60 s of test time, which stands still unless a test moves it. Admins sign in through a fake Google
/// (<see cref="SignInMemberAdminAsync"/>), for the changes the admin API makes on the server's own clock.
/// </summary>
public abstract class AppEventsFixture : ServerFixture
{
    /// <summary>The apps subscribed at start; tests leave these subscriptions as they are.</summary>
    public static readonly string[] SubscribedApps = ["jkforum", "jkfpost"];

    public AppEventInbox Events { get; private set; } = null!;

    public FakeGoogleServer Google { get; private set; } = null!;

    /// <summary>Every log line of the fixture's server.</summary>
    public LogCapture Logs { get; } = new();

    /// <summary>The secret the CLI printed for each app of <see cref="SubscribedApps"/>.</summary>
    public Dictionary<string, string> Secrets { get; } = new(StringComparer.Ordinal);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(Google.Settings())
    {
        [TestKeys.Setting] = TestKeys.First,
        ["Pan:AppEvents:PollMilliseconds"] = "100",
        // Why 60 s (48-72 s with jitter): a failed delivery waits for the test's clock; a two-minute step makes it due.
        ["Pan:AppEvents:RetryDelaySeconds"] = "60",
        ["Pan:AppEvents:MaxRetryDelaySeconds"] = "60",
    };

    protected override void ConfigureServer(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);

    /// <summary>Runs an operator command on this fixture's database with its key-encryption key.</summary>
    public Task<CliRun> CliAsync(params string[] args) => PanCli.RunAsync(Database, [.. args, $"--{TestKeys.Setting}={TestKeys.First}"]);

    /// <summary>Another node on the same database and clock.</summary>
    public Task<PanServer> StartSecondNodeAsync() => PanServer.StartAsync(Database, Settings, Server.Clock);

    /// <summary>A new allow-listed admin with the role member-admin, signed in through GoogleLogin; returns its admin token.</summary>
    public async Task<string> SignInMemberAdminAsync()
    {
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<AdminDirectory>().AddOrUpdateAsync(email, "member-admin", default);
        }

        return (await new AdminService.AdminServiceClient(Server.Grpc).GoogleLoginAsync(new GoogleLoginRequest { AccessToken = Google.Issue(email) })).AdminToken;
    }

    public override async Task InitializeAsync()
    {
        Google = await FakeGoogleServer.StartAsync();
        Events = await AppEventInbox.StartAsync();
        await base.InitializeAsync();
        foreach (var app in SubscribedApps)
        {
            var run = await CliAsync("apps", "events", app, "--url", Events.UrlOf(app));
            Assert.True(run.ExitCode == 0, run.Error);
            Secrets[app] = PanCli.Secret(run);
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Events.DisposeAsync();
        await Google.DisposeAsync();
    }
}

public sealed class SqliteAppEventsFixture : AppEventsFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresAppEventsFixture : AppEventsFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
