using Pan.Tests.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Guests;

/// <summary>
/// The email fixture (mail to a real SMTP server on loopback, SMS to the webhook listener) with three apps registered
/// and given their apinode settings through the operator CLI: jkforum (email names, email activation), jkfpost (mobile
/// names, SMS activation, zh-TW) and jkfstar (plain names, no activation).
/// </summary>
public abstract class GuestFixture : EmailFixture
{
    public const string EmailApp = "jkforum";
    public const string SmsApp = "jkfpost";
    public const string PlainApp = "jkfstar";

    private readonly Dictionary<string, string> secrets = new(StringComparer.Ordinal);

    public string SecretOf(string appId) => secrets[appId];

    /// <summary>The email fixture's settings with the createTemp and name look-up caps lifted (every test calls from 127.0.0.1; the caps have their own tests).</summary>
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Pan:Guests:CreateTempPerIpPerHour"] = "100000",
        ["Pan:Guests:NameLookupsPerIpPerHour"] = "100000",
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await RegisterAsync(EmailApp, "--account-name", "email", "--activation", "email", "--locale", "en");
        await RegisterAsync(SmsApp, "--account-name", "mobile", "--activation", "sms", "--locale", "zh-TW");
        await RegisterAsync(PlainApp, "--account-name", "name", "--activation", "none");
    }

    private async Task RegisterAsync(string appId, params string[] guestSettings)
    {
        var added = await PanCli.RunAsync(Database, "apps", "add", appId, "--name", appId);
        Assert.True(added.ExitCode == 0, added.Error);
        secrets[appId] = PanCli.Secret(added);
        var set = await PanCli.RunAsync(Database, ["apps", "guest-settings", appId, .. guestSettings]);
        Assert.True(set.ExitCode == 0, set.Error);
    }
}

public sealed class SqliteGuestFixture : GuestFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresGuestFixture : GuestFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
