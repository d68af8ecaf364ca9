using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Tests.Deletion;
using Pan.Tests.Infrastructure;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// /connect/authorize racing the member's deletion (SECURITY 12). What it writes for the member — the used-up consent
/// request, a remembered consent (permanent authorization), the code's entry and its ad-hoc authorization — either
/// waits for the deletion and is not written, or commits first and is erased by the deletion. Nothing naming the
/// deleted member is left.
/// </summary>
public abstract partial class OAuthHttpBehaviour<TFixture>
{
    [Fact]
    public async Task Authorize_WhileTheMembersDeletionIsUncommitted_FinishingADecidedConsent_SendsTheBrowserToSignIn_AndWritesNothing()
    {
        // The browser comes back from the consent page while the deletion's transaction is open (on PostgreSQL the
        // member still looks live): the consent request it uses up and the remembered consent it would store must wait
        // for the deletion, and then there is no member to store them for.
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var finish = await DecidedConsentAsync(browser, remember: true);
        Task<HttpResponseMessage> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, who.Member.Uid))
        {
            call = Task.Run(() => browser.GetAsync(finish));
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        // What authorize answers a browser whose member is gone.
        using var answer = await call;
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        Assert.Equal("/account/sign-in", answer.Headers.Location!.AbsolutePath);
        Assert.Empty(await RowsNamingAsync(who));
    }

    [Theory]
    [InlineData("implicit")]
    [InlineData("remembered")]
    public async Task Authorize_WhileTheMembersDeletionIsUncommitted_WithConsentNotAsked_SendsTheBrowserToSignIn_AndIssuesNoCode(string consent)
    {
        // No consent page: the first-party app has implicit consent, or the member remembered their consent to the
        // native app. Either way the code's entry and its ad-hoc authorization must wait for the deletion.
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var url = AuthorizeUrl(OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", Pkce.Create());
        if (consent == "remembered")
        {
            await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()), remember: true);
            url = AuthorizeUrl(OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create());
        }

        Task<HttpResponseMessage> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, who.Member.Uid))
        {
            call = Task.Run(() => browser.GetAsync(url));
            Assert.True(
                await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres",
                "authorize answered without waiting for the member's deletion");
            await deletion.CommitAsync();
        }

        using var answer = await call;
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        Assert.Equal("/account/sign-in", answer.Headers.Location!.AbsolutePath);
        Assert.Empty(await RowsNamingAsync(who));
    }

    [Fact]
    public async Task Authorize_WhenTheMembersDeletionRunsBeforeItCommits_LeavesNoRememberedConsentBehind()
    {
        // The other order: authorize has started writing (it used up the consent request) and is held before it stores
        // the remembered consent, by a lock on the apps table that the authorization's foreign key needs. The deletion
        // runs meanwhile, then authorize goes on and commits. The deletion must still erase what authorize stored: it
        // waits for authorize's commit, or its erasers would miss the uncommitted authorization and leave it for good.
        // SQLite runs one writer at a time, so there the two run one after the other.
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var pkce = Pkce.Create();
        var finish = await DecidedConsentAsync(browser, remember: true, pkce);
        Task<HttpResponseMessage> call;
        Task<UncommittedDeletion>? deleting = null;
        await using (await DatabaseLock.HoldAsync(fixture.Database, "oauth_applications"))
        {
            call = Task.Run(() => browser.GetAsync(finish));
            if (fixture.Database.Provider == "postgres")
            {
                Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, call));
                deleting = Task.Run(() => UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, who.Member.Uid));
                Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, deleting));
            }
        }

        using var answer = await call;
        await using (var deletion = await (deleting ?? UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, who.Member.Uid)))
        {
            await deletion.CommitAsync();
        }

        // The member was live when authorize ran, so it issued the code; the deletion then took everything away.
        var location = answer.Headers.Location!;
        Assert.StartsWith(OAuthFixture.WebRedirect + "?", location.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(Param(location, "code"));
        Assert.Empty(await RowsNamingAsync(who));
        var (status, json) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(location, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
    }

    /// <summary>
    /// Runs the web app's request through the consent page and approves it; returns the /connect/authorize URL (with
    /// <c>pan_consent</c>) that finishes it, not yet followed.
    /// </summary>
    private static async Task<Uri> DecidedConsentAsync(HttpClient browser, bool remember, Pkce? pkce = null)
    {
        using var authorize = await browser.GetAsync(AuthorizeUrl(OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid email", pkce ?? Pkce.Create()));
        var html = await browser.GetStringAsync(authorize.Headers.Location!.PathAndQuery);
        using var decided = await browser.PostAsync("/account/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["request"] = Hidden(html, "request"), ["decision"] = "approve", ["remember"] = remember ? "true" : "false",
        }));
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        return decided.Headers.Location!;
    }

    /// <summary>Every authorization, token entry and consent request that names <paramref name="who"/>, as "kind type status".</summary>
    private async Task<List<string>> RowsNamingAsync(SignedIn who)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var subject = who.Member.ObjectId.ToString("D");
        var authorizations = await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().Where(a => a.Subject == subject)
            .Select(a => "authorization " + a.Type + " " + a.Status).ToListAsync();
        var tokens = await db.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Subject == subject)
            .Select(t => "token " + t.Type + " " + t.Status).ToListAsync();
        var consents = await db.Set<PendingConsent>().Where(p => p.MemberUid == who.Member.Uid)
            .Select(p => "consent request " + (p.Used == null ? "open" : "used")).ToListAsync();
        return [.. authorizations, .. tokens, .. consents];
    }
}
