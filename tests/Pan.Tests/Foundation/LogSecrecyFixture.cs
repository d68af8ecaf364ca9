using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Pan.Tests.Credentials;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;

namespace Pan.Tests.Foundation;

/// <summary>
/// One server with every feature that handles a secret switched on — SMS to the webhook inbox (with an Authorization
/// header), mail to the SMTP inbox, the OAuth provider and its three clients, admins through the fake Google, social
/// login through the fake providers, an internal API key, and three apps (guest settings and hand-off hosts) — whose
/// every log line is captured in <see cref="Logs"/>. Pan's own categories log at Trace, and so do the framework
/// categories a deployment could turn up while chasing a problem (ASP.NET Core, Kestrel, EF Core, Npgsql, HttpClient,
/// OpenIddict, gRPC).
/// </summary>
public abstract class LogSecrecyFixture : OAuthCredentialFixture
{
    public const string InternalKey = "pan-log-test-internal-key-5f0c2a9e7b1d4e36";
    public const string SmsWebhookAuthorization = "Bearer sms-webhook-secret-8d3e61a0c4f2";

    /// <summary>Guest app with email activation; also the hand-off source and the social-login client.</summary>
    public const string EmailApp = "jkforum";

    /// <summary>Guest app with SMS activation; also the hand-off target and the passport scanner.</summary>
    public const string SmsApp = "jkfpost";

    public const string ForumHost = "forum.example.com";

    /// <summary>The passkeys' relying party and origin (a software authenticator answers for them).</summary>
    public const string PasskeyRpId = "pan.example.test";

    public const string PasskeyOrigin = "https://pan.example.test";

    private readonly Dictionary<string, string> secrets = new(StringComparer.Ordinal);

    public LogCapture Logs { get; } = new();

    public FakeSocialProviders Providers { get; private set; } = null!;

    public string SecretOf(string appId) => secrets[appId];

    /// <summary>The log levels under test: everything at Trace.</summary>
    public static Dictionary<string, string?> TraceEverything => new()
    {
        ["Logging:LogLevel:Default"] = "Trace",
        ["Logging:LogLevel:Microsoft"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Trace",
        ["Logging:LogLevel:Npgsql"] = "Trace",
        ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace",
        ["Logging:LogLevel:OpenIddict"] = "Trace",
        ["Logging:LogLevel:Grpc"] = "Trace",
        ["Logging:LogLevel:Pan.Requests"] = "Trace",
    };

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>(base.Settings);
            foreach (var extra in new[] { Providers.Settings(), CredentialFixture.CredentialSettings, TraceEverything })
            {
                foreach (var (key, value) in extra)
                {
                    settings[key] = value;
                }
            }

            settings["Pan:Internal:ApiKeys:0"] = InternalKey;
            settings["Pan:Sms:Webhook:AuthorizationHeader"] = SmsWebhookAuthorization;
            settings["Pan:Guests:CreateTempPerIpPerHour"] = "100000";
            settings["Pan:Passkeys:RelyingPartyId"] = PasskeyRpId;
            settings["Pan:Passkeys:RelyingPartyName"] = "Pan log tests";
            settings["Pan:Passkeys:Origins:0"] = PasskeyOrigin;
            return settings;
        }
    }

    public override async Task InitializeAsync()
    {
        Providers = await FakeSocialProviders.StartAsync();
        await base.InitializeAsync();
        await AddAppAsync(EmailApp, ["--auth-host", $"{ForumHost},127.0.0.1"], "--account-name", "email", "--activation", "email", "--locale", "en");
        await AddAppAsync(SmsApp, [], "--account-name", "mobile", "--activation", "sms", "--locale", "zh-TW");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Providers.DisposeAsync();
    }

    protected override void ConfigureServer(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);

    private async Task AddAppAsync(string appId, string[] appOptions, params string[] guestSettings)
    {
        var added = await PanCli.RunAsync(Database, ["apps", "add", appId, "--name", appId, .. appOptions]);
        Assert.True(added.ExitCode == 0, added.Error);
        secrets[appId] = PanCli.Secret(added);
        var set = await PanCli.RunAsync(Database, ["apps", "guest-settings", appId, .. guestSettings]);
        Assert.True(set.ExitCode == 0, set.Error);
    }
}

public sealed class SqliteLogSecrecyFixture : LogSecrecyFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresLogSecrecyFixture : LogSecrecyFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
