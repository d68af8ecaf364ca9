using Pan.Tests.Infrastructure;

namespace Pan.Tests.PhoneFlows;

/// <summary>A server whose SMS go to a real webhook listener on loopback, so tests read codes the way a phone would.</summary>
public abstract class PhoneFlowFixture : ServerFixture
{
    public SmsInbox Inbox { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Pan:Sms:Provider"] = "webhook",
        ["Pan:Sms:Webhook:Url"] = Inbox.Url.ToString(),
        ["Pan:Sms:Webhook:Retries"] = "0",
        // Why: these suites register hundreds of phones from one loopback address; the caps have their own tests.
        ["Pan:Sms:Limits:PerIpPerHour"] = "100000",
        ["Pan:Sms:Limits:PerIpPerDay"] = "100000",
        ["Pan:Sms:Limits:PerPhonePerHour"] = "100",
        ["Pan:Sms:Limits:PerPhonePerDay"] = "100",
        ["Pan:Sms:Limits:PerCountryPerHour"] = "100000",
        ["Pan:Sms:Limits:PerCountryPerDay"] = "100000",
        ["Pan:Captcha:Mode"] = "off",
    };

    /// <summary>This fixture's settings, for another node on the same database and SMS inbox.</summary>
    public IDictionary<string, string?> NodeSettings => Settings;

    public override async Task InitializeAsync()
    {
        Inbox = await SmsInbox.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Inbox.DisposeAsync();
    }
}

public sealed class SqlitePhoneFlowFixture : PhoneFlowFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresPhoneFlowFixture : PhoneFlowFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
