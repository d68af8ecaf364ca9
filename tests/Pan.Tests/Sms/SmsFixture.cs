using Microsoft.Extensions.Time.Testing;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Sms;

/// <summary>
/// A database, an <see cref="SmsInbox"/> and a server sending SMS to it with small caps. Tests in one class run one
/// after another; each starts with <see cref="FreshWindow"/> so earlier tests' sends no longer count.
/// </summary>
public abstract class SmsFixture : IAsyncLifetime
{
    /// <summary>The internal API key the fixture's server accepts.</summary>
    public const string InternalKey = "pan-tests-internal-key-0123456789abcdef";

    private PanServer? server;

    public SmsInbox Inbox { get; private set; } = null!;

    public ITestDatabase Database { get; private set; } = null!;

    public PanServer Server => server ?? throw new InvalidOperationException("The server has not started.");

    public FakeTimeProvider Clock => Server.Clock;

    /// <summary>The fixture server's settings: the inbox, small caps, an allow-list and risk rules.</summary>
    public Dictionary<string, string?> Settings()
    {
        var settings = Inbox.Settings();
        settings["Pan:Sms:Limits:PerPhonePerHour"] = "3";
        settings["Pan:Sms:Limits:PerPhonePerDay"] = "5";
        settings["Pan:Sms:Limits:PerIpPerHour"] = "4";
        settings["Pan:Sms:Limits:PerIpPerDay"] = "6";
        settings["Pan:Sms:Limits:PerCountryPerHour"] = "8";
        settings["Pan:Sms:Limits:PerCountryPerDay"] = "12";
        settings["Pan:Sms:AllowedCountries:0"] = "886";
        settings["Pan:Sms:AllowedCountries:1"] = "+852";
        settings["Pan:Sms:AllowedCountries:2"] = "US";
        settings["Pan:Sms:AllowedCountries:3"] = "44";
        settings["Pan:Sms:Risk:PhonePerHour"] = "2";
        settings["Pan:Sms:Risk:IpPerHour"] = "3";
        settings["Pan:Sms:Risk:HighRiskCountries:0"] = "GB";
        settings["Pan:Internal:ApiKeys:0"] = InternalKey;
        return settings;
    }

    /// <summary>Moves the clock two days on: every cap window starts empty.</summary>
    public void FreshWindow() => Clock.Advance(TimeSpan.FromDays(2));

    public async Task InitializeAsync()
    {
        Inbox = await SmsInbox.StartAsync();
        Database = await CreateDatabaseAsync();
        server = await PanServer.StartAsync(Database, Settings());
    }

    /// <summary>Another node on the same database, inbox and clock, with some settings changed.</summary>
    public Task<PanServer> StartNodeAsync(IDictionary<string, string?> changes)
    {
        var settings = Settings();
        foreach (var (key, value) in changes)
        {
            settings[key] = value;
        }

        return PanServer.StartAsync(Database, settings, Clock);
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

        if (Inbox is not null)
        {
            await Inbox.DisposeAsync();
        }
    }

    protected abstract Task<ITestDatabase> CreateDatabaseAsync();
}

public sealed class SqliteSmsFixture : SmsFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresSmsFixture : SmsFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
