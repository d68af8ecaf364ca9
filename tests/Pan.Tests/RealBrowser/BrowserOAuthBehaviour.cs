using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pan.Server.OAuth;
using Pan.Tests.Infrastructure;
using Pan.Tests.SignInPages;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Tests.RealBrowser;

/// <summary>A sign-in pages server with the OAuth provider on plain-HTTP loopback.</summary>
public abstract class OAuthBrowserFixture : SignInPagesFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Pan:OAuth:AllowHttpOnLoopback"] = "true",
    };
}

public sealed class SqliteOAuthBrowserFixture : OAuthBrowserFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresOAuthBrowserFixture : OAuthBrowserFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

/// <summary>
/// The whole OAuth code flow in a real browser (Debian's Chromium, headless): the client's authorize URL (PKCE S256) →
/// Pan's sign-in pages with the SMS code from the webhook → the consent page (screenshot kept) → approve → the client's
/// redirect URI (a loopback listener of the test) with a code that redeems at the token endpoint. A second run finds the
/// consent remembered; a reject run brings error=access_denied.
/// </summary>
public abstract class BrowserOAuthBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthBrowserFixture
{
    private readonly SignInFlow flow = new(fixture);

    [Fact]
    public async Task ApproveThenRemembered_BothLandOnTheClientWithACode()
    {
        await using var harness = await BrowserHarness.StartAsync(fixture.Inbox);
        var client = await RegisterClientAsync(harness);
        var (_, e164) = await flow.Phones.RegisterAsync();

        var first = await AuthorizeAsync(harness, client, e164, "approve", $"oauth-approve-{Suffix}");
        Assert.True(first.Result.Ok, first.Result.Output);
        Assert.Equal(["phone", "code", "consent"], BrowserSignInBehaviour<TFixture>.Pages(first.Result));
        Assert.Single(Directory.GetFiles(BrowserRunner.Screenshots, $"oauth-approve-{Suffix}-*-consent.png"));
        await AssertCodeRedeemsAsync(harness, client, first);

        // A new browser (no cookie) signs in again; the remembered consent skips the consent page.
        var second = await AuthorizeAsync(harness, client, e164, "approve", $"oauth-remembered-{Suffix}");
        Assert.True(second.Result.Ok, second.Result.Output);
        Assert.Equal(["phone", "code"], BrowserSignInBehaviour<TFixture>.Pages(second.Result));
        await AssertCodeRedeemsAsync(harness, client, second);
    }

    [Fact]
    public async Task Reject_LandsOnTheClientWithAccessDenied()
    {
        await using var harness = await BrowserHarness.StartAsync(fixture.Inbox);
        var client = await RegisterClientAsync(harness);
        var (_, e164) = await flow.Phones.RegisterAsync();

        var run = await AuthorizeAsync(harness, client, e164, "reject", $"oauth-reject-{Suffix}");
        Assert.True(run.Result.Ok, run.Result.Output);
        Assert.Equal(["phone", "code", "consent"], BrowserSignInBehaviour<TFixture>.Pages(run.Result));
        var answer = System.Web.HttpUtility.ParseQueryString(new Uri(run.Result.FinalUrl!).Query);
        Assert.Equal("access_denied", answer["error"]);
        Assert.Equal(run.State, answer["state"]);
        Assert.Null(answer["code"]);
    }

    private static string Suffix => typeof(TFixture).Name.StartsWith("Postgres", StringComparison.Ordinal) ? "postgres" : "sqlite";

    /// <summary>
    /// A confidential app (its id and secret): a remembered consent skips the screen only for an app whose identity is
    /// assured (a secret, or https-only redirects), and the harness's callback is loopback http.
    /// </summary>
    private async Task<(string Id, string Secret)> RegisterClientAsync(BrowserHarness harness)
    {
        var clientId = "browser-" + Guid.NewGuid().ToString("N")[..12];
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var added = await scope.ServiceProvider.GetRequiredService<OAuthClients>().AddAsync(new OAuthClientRegistration(
            clientId, "Browser Test App", null, null, null, "An app of the browser tests.", [harness.CallbackUrl.ToString()], [],
            [Scopes.OpenId, Scopes.Profile], ConsentTypes.Explicit, Confidential: true), CancellationToken.None);
        return (clientId, added.Secret!);
    }

    private async Task<(WalkResult Result, string State, string Verifier)> AuthorizeAsync(
        BrowserHarness harness, (string Id, string Secret) client, string e164, string decision, string name)
    {
        var clientId = client.Id;
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var state = Base64Url(RandomNumberGenerator.GetBytes(16));
        var authorize = new Uri(fixture.Server.HttpUri, "/" + OAuthPaths.Authorize
            + $"?client_id={clientId}&redirect_uri={Uri.EscapeDataString(harness.CallbackUrl.ToString())}&response_type=code"
            + $"&scope={Uri.EscapeDataString("openid profile")}&state={state}&code_challenge={challenge}&code_challenge_method=S256");
        foreach (var old in Directory.Exists(BrowserRunner.Screenshots) ? Directory.GetFiles(BrowserRunner.Screenshots, $"{name}-*.png") : [])
        {
            File.Delete(old);
        }

        var result = await BrowserRunner.WalkAsync(new
        {
            start = authorize.ToString(),
            stopAt = harness.CallbackUrl.ToString(),
            codeUrl = harness.CodeUrl(e164),
            phone = new { countryCode = "886", national = e164 },
            consent = decision,
            screenshots = BrowserRunner.Screenshots,
            name,
        });
        return (result, state, verifier);
    }

    private async Task AssertCodeRedeemsAsync(BrowserHarness harness, (string Id, string Secret) client, (WalkResult Result, string State, string Verifier) run)
    {
        var answer = System.Web.HttpUtility.ParseQueryString(new Uri(run.Result.FinalUrl!).Query);
        Assert.Equal(run.State, answer["state"]);
        Assert.Contains(harness.Callbacks, c => c.Query.Contains("code=", StringComparison.Ordinal) && c.Query.Contains(run.State, StringComparison.Ordinal));
        using var token = await fixture.Server.Http.PostAsync("/" + OAuthPaths.Token, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = answer["code"]!,
            ["redirect_uri"] = harness.CallbackUrl.ToString(),
            ["client_id"] = client.Id,
            ["client_secret"] = client.Secret,
            ["code_verifier"] = run.Verifier,
        }));
        var body = await token.Content.ReadAsStringAsync();
        Assert.True(token.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("access_token").GetString()));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public sealed class BrowserOAuthBehaviour_Sqlite(SqliteOAuthBrowserFixture f) : BrowserOAuthBehaviour<SqliteOAuthBrowserFixture>(f);

public sealed class BrowserOAuthBehaviour_Postgres(PostgresOAuthBrowserFixture f) : BrowserOAuthBehaviour<PostgresOAuthBrowserFixture>(f);
