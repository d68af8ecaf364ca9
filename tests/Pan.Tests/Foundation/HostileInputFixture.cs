using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;

namespace Pan.Tests.Foundation;

/// <summary>
/// The OAuth fixture's server (the provider and its three clients) with the fake social providers for the Omniauth API,
/// one app registered for Omniauth and apinode (plain account names, no activation), the metrics listener on a port of
/// its own, and every log line captured.
/// </summary>
public abstract class HostileInputFixture : OAuthFixture
{
    public const string App = "jkfstar";

    public LogCapture Logs { get; } = new();

    public FakeSocialProviders Providers { get; private set; } = null!;

    public string AppSecret { get; private set; } = string.Empty;

    public Uri MetricsUri { get; } = new($"http://127.0.0.1:{FreePort()}");

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>(base.Settings);
            foreach (var (key, value) in Providers.Settings())
            {
                settings[key] = value;
            }

            settings["Pan:Omniauth:UnboundSignInsPerIpPerHour"] = "100000";
            settings["Pan:Omniauth:EmailExisted:PerClientPerHour"] = "100000";
            settings["Pan:Omniauth:EmailExisted:PerIpPerHour"] = "100000";
            settings["Pan:Guests:CreateTempPerIpPerHour"] = "100000";
            settings["Pan:Guests:NameLookupsPerIpPerHour"] = "100000";
            settings["Pan:Metrics:Url"] = MetricsUri.ToString().TrimEnd('/');
            return settings;
        }
    }

    public override async Task InitializeAsync()
    {
        Providers = await FakeSocialProviders.StartAsync();
        await base.InitializeAsync();
        var added = await PanCli.RunAsync(Database, "apps", "add", App, "--name", App);
        Assert.True(added.ExitCode == 0, added.Error);
        AppSecret = PanCli.Secret(added);
        var set = await PanCli.RunAsync(Database, "apps", "guest-settings", App, "--account-name", "name", "--activation", "none");
        Assert.True(set.ExitCode == 0, set.Error);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Providers is not null)
        {
            await Providers.DisposeAsync();
        }
    }

    protected override void ConfigureServer(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class SqliteHostileInputFixture : HostileInputFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresHostileInputFixture : HostileInputFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
