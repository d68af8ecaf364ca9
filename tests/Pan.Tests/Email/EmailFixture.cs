using Pan.Tests.Infrastructure;
using Pan.Tests.PhoneFlows;

namespace Pan.Tests.Email;

/// <summary>
/// A server whose mail goes to a real SMTP server on loopback (and SMS to the webhook inbox), with two allowed redirect
/// hosts: app.example.com and *.trusted.test. Captcha off; per-IP caps lifted (the suites run from one address); the mail and SMS outboxes poll
/// often and retry a failed message after 90 s of test time.
/// </summary>
public abstract class EmailFixture : PhoneFlowFixture
{
    public const string AllowedRedirect = "https://app.example.com/done?x=1";

    public SmtpInbox Smtp { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>(base.Settings);
            foreach (var (key, value) in Smtp.Settings())
            {
                settings[key] = value;
            }

            settings["Pan:Links:AllowedRedirectHosts:0"] = "app.example.com";
            settings["Pan:Links:AllowedRedirectHosts:1"] = "*.trusted.test";
            settings["Pan:Email:Limits:PerIpPerHour"] = "100000";
            settings["Pan:Email:Limits:LookupsPerIpPerHour"] = "100000";
            // Why: queued mail from another node or due for a retry is found within a tenth of a second.
            settings["Pan:Email:Outbox:PollMilliseconds"] = "100";
            // Why 90 s (72-108 s with jitter) for every retry: the test clock stands still unless a test moves it, so a
            // failed outbox mail waits for the test — past the 60 s reset cool-down it is still not due (a newer request
            // meets it queued, not being resent), and a two-minute step always makes it due.
            settings["Pan:Email:Outbox:RetryDelaySeconds"] = "90";
            settings["Pan:Email:Outbox:MaxRetryDelaySeconds"] = "90";
            // Why the same for the SMS outbox (reset SMS): a failed text waits for the test's clock as a failed mail does.
            settings["Pan:Sms:Outbox:PollMilliseconds"] = "100";
            settings["Pan:Sms:Outbox:RetryDelaySeconds"] = "90";
            settings["Pan:Sms:Outbox:MaxRetryDelaySeconds"] = "90";
            return settings;
        }
    }

    /// <summary>This fixture's settings plus <paramref name="extra"/> (for another node with, e.g., captcha on).</summary>
    public Dictionary<string, string?> SettingsWith(IDictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Another node on the same database and the same clock, with this fixture's settings plus <paramref name="extra"/>.</summary>
    public Task<PanServer> StartNodeWithAsync(IDictionary<string, string?> extra) => PanServer.StartAsync(Database, SettingsWith(extra), Server.Clock);

    /// <summary>Another node with this fixture's settings and clock on <paramref name="database"/> (this database reached another way, e.g. through a <see cref="TcpRelay"/>).</summary>
    public Task<PanServer> StartNodeOnAsync(ITestDatabase database) => PanServer.StartAsync(database, SettingsWith(new Dictionary<string, string?>()), Server.Clock);

    public override async Task InitializeAsync()
    {
        Smtp = await SmtpInbox.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Smtp.DisposeAsync();
    }
}

public sealed class SqliteEmailFixture : EmailFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresEmailFixture : EmailFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
