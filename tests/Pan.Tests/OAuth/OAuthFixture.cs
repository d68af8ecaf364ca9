using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Tests.Infrastructure;

using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// A server with the OAuth provider on http loopback (Pan:OAuth:AllowHttpOnLoopback) and three clients registered
/// through the operator CLI: a public native app, a confidential web app (its secret kept here) and a first-party app
/// with implicit consent. The clock starts at the real time, because an independent OIDC library (Node) checks
/// token times against its own clock. <see cref="ConsentApp"/> (the app the test members' Pan access tokens are issued
/// to) is the app designated to run the consent screen over gRPC.
/// </summary>
public abstract class OAuthFixture : ServerFixture
{
    public const string NativeClient = "native-app";
    public const string NativeRedirect = "com.example.app:/oauth/callback";
    public const string WebClient = "web-app";
    public const string WebRedirect = "https://app.example.test/signin-pan";
    public const string FirstPartyClient = "first-party";
    public const string FirstPartyRedirect = "http://127.0.0.1:7777/callback";

    /// <summary>The app allowed to call pan.oauth.ConsentProcess (Pan:OAuth:ConsentApps); TestMembers' tokens are for it.</summary>
    public const string ConsentApp = "jkforum";

    public string WebSecret { get; private set; } = string.Empty;

    protected override DateTimeOffset? ClockStart => DateTimeOffset.UtcNow;

    protected override IDictionary<string, string?> Settings => ProviderSettings();

    /// <summary>The provider on http loopback, with <see cref="ConsentApp"/> running the consent screen over gRPC.</summary>
    public static Dictionary<string, string?> ProviderSettings() => new()
    {
        ["Pan:OAuth:AllowHttpOnLoopback"] = "true",
        ["Pan:OAuth:ConsentApps:0"] = ConsentApp,
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        WebSecret = await RegisterClientsAsync(Database);
    }

    /// <summary>Registers the three clients on <paramref name="database"/> through the operator CLI; returns the web app's secret.</summary>
    public static async Task<string> RegisterClientsAsync(ITestDatabase database)
    {
        await RegisterAsync(
            database, "clients", "add", NativeClient, "--name", "Native App", "--redirect-uri", NativeRedirect, "--scope", "openid", "--scope", "profile",
            "--scope", "email", "--scope", "offline_access", "--logo-url", "https://cdn.example.test/logo.png", "--privacy-url", "https://example.test/privacy",
            "--terms-url", "https://example.test/terms", "--summary", "A reader for the forum.");
        var web = await RegisterAsync(
            database, "clients", "add", WebClient, "--name", "Web App", "--redirect-uri", WebRedirect, "--scope", "openid profile email phone offline_access",
            "--type", "confidential", "--post-logout-uri", "https://app.example.test/bye");
        await RegisterAsync(
            database, "clients", "add", FirstPartyClient, "--name", "First Party", "--redirect-uri", FirstPartyRedirect, "--scope", "openid", "--consent", "implicit");
        return PanCli.Secret(web);
    }

    /// <summary>The web app's refresh grant with <paramref name="tokens"/>' refresh token.</summary>
    public Task<(HttpStatusCode Status, JsonElement Json)> RefreshAsync(JsonElement tokens) =>
        PostFormAsync(Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
            ["client_id"] = WebClient, ["client_secret"] = WebSecret,
        });

    /// <summary>Whether introspection by the web app finds <paramref name="accessToken"/> active.</summary>
    public async Task<bool> IsActiveAsync(string accessToken)
    {
        var (status, json) = await PostFormAsync(Server, "/connect/introspect", new Dictionary<string, string>
        {
            ["token"] = accessToken, ["token_type_hint"] = "access_token", ["client_id"] = WebClient, ["client_secret"] = WebSecret,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        return json.GetProperty("active").GetBoolean();
    }

    /// <summary>The id of the entry of <paramref name="who"/>'s one valid refresh token.</summary>
    public async Task<string> RefreshTokenEntryAsync(SignedIn who)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var subject = who.Member.ObjectId.ToString("D");
        return (await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Subject == subject && t.Type == OpenIddictConstants.TokenTypeIdentifiers.RefreshToken
                && t.Status == OpenIddictConstants.Statuses.Valid)
            .Select(t => t.Id).SingleAsync())!;
    }

    /// <summary>Another empty database of the same kind (for tests that need a first start).</summary>
    public Task<ITestDatabase> NewDatabaseAsync() => CreateDatabaseAsync();

    private static async Task<CliRun> RegisterAsync(ITestDatabase database, params string[] args)
    {
        var run = await PanCli.RunAsync(database, args);
        return run.ExitCode == 0 ? run : throw new InvalidOperationException($"{string.Join(' ', args)}: {run.Error}{run.Output}");
    }
}

public sealed class SqliteOAuthFixture : OAuthFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresOAuthFixture : OAuthFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
