using Microsoft.Extensions.DependencyInjection;
using Pan.General.Member;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.RealBrowser;

/// <summary>
/// A Pan server with passkeys on for one browser app, <see cref="BrowserApps.Allowed"/>, reached as
/// <c>http://localhost:&lt;port&gt;</c> (a secure context, so WebAuthn runs; relying party <c>localhost</c>), which is also
/// its one CORS origin.
/// </summary>
public abstract class PasskeyBrowserFixture : ServerFixture
{
    public BrowserApps Apps { get; private set; } = null!;

    /// <summary>The browser app's page, on the host name WebAuthn accepts over plain HTTP.</summary>
    public Uri Page => new($"http://localhost:{Apps.Allowed.Port}/");

    public string Origin => Page.GetLeftPart(UriPartial.Authority);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Pan:Cors:AllowedOrigins:0"] = Origin,
        ["Pan:Passkeys:RelyingPartyId"] = "localhost",
        ["Pan:Passkeys:RelyingPartyName"] = "Pan browser tests",
        ["Pan:Passkeys:Origins:0"] = Origin,
    };

    public override async Task InitializeAsync()
    {
        Apps = await BrowserApps.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Apps.DisposeAsync();
    }
}

public sealed class SqlitePasskeyBrowserFixture : PasskeyBrowserFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresPasskeyBrowserFixture : PasskeyBrowserFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

/// <summary>
/// In a real browser (Debian's Chromium, headless, with its DevTools virtual authenticator as the device), a page adds a
/// passkey through Pan's HTTP/JSON routes and the browser's own WebAuthn (options parsed by
/// <c>PublicKeyCredential.parse…FromJSON</c>, answers sent as <c>toJSON()</c>), then signs in with it: what Pan hands
/// out and takes back is what browsers make and read, not only what the tests' software authenticator does.
/// </summary>
public abstract class BrowserPasskeyBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PasskeyBrowserFixture
{
    [Fact]
    public async Task APage_AddsAPasskeyWithTheBrowsersWebAuthn_AndSignsInWithIt()
    {
        var member = await TestMembers.CreateAsync(fixture.Server, m => m.DisplayName = TestMembers.UniqueName("pkweb"));
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);
        string verify;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            verify = (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(member.Uid, VerifyPurposes.AddPasskey, default)).Token;
        }

        var (report, output) = await BrowserRunner.RunScriptAsync("passkey.mjs", new
        {
            pan = fixture.Server.HttpUri.ToString(),
            page = fixture.Page.ToString(),
            accessToken = access,
            verifyToken = verify,
            name = "Chromium virtual key",
        });

        Assert.True(report.GetProperty("ok").GetBoolean(), output);
        // The authenticator holds one discoverable credential, used once after its creation.
        var credential = Assert.Single(report.GetProperty("credentials").EnumerateArray());
        Assert.True(credential.GetProperty("resident").GetBoolean(), output);

        var client = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);
        var listed = Assert.Single((await client.ListPasskeysAsync(new ListPasskeysRequest { AccessToken = access })).Passkeys);
        Assert.Equal((report.GetProperty("passkeyId").GetString(), "Chromium virtual key"), (listed.PasskeyId, listed.Name));
        Assert.NotNull(listed.LastUsed);

        // The sign-in's auth token is the member's own session.
        var signedIn = (await client.AccessTokenAsync(new AccessTokenRequest { AuthToken = report.GetProperty("authToken").GetString()!, AppId = "jkforum" })).AccessToken;
        Assert.Equal(member.Uid, (await client.MeAsync(new MeRequest { AccessToken = signedIn })).User.Uid);
        Assert.Contains((await client.ListSessionsAsync(new ListSessionsRequest { AccessToken = signedIn })).Sessions,
            s => s.Current && s.AuthMethod == "auth-by-passkey");
    }
}

public sealed class BrowserPasskeyBehaviour_Sqlite(SqlitePasskeyBrowserFixture f) : BrowserPasskeyBehaviour<SqlitePasskeyBrowserFixture>(f);

public sealed class BrowserPasskeyBehaviour_Postgres(PostgresPasskeyBrowserFixture f) : BrowserPasskeyBehaviour<PostgresPasskeyBrowserFixture>(f);
