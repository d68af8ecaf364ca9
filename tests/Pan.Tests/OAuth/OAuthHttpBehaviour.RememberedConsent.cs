using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Oauth;
using Pan.Tests.Infrastructure;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// The remembered consent: one per member and app, whatever the number of consents the member remembered, holding for
/// each scope the member's latest remembered decision.
/// </summary>
public abstract partial class OAuthHttpBehaviour<TFixture>
{
    [Fact]
    public async Task ConsentPage_RememberedTwice_WithPromptConsent_KeepsOneRememberedConsent()
    {
        // The app asks again with prompt=consent although the member's consent is remembered; the member approves and
        // ticks "remember" again. That updates the remembered consent; it does not add a second one.
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);

        await RememberOnTheConsentPageAsync(browser, "openid email", prompt: null);
        await RememberOnTheConsentPageAsync(browser, "openid email", prompt: "consent");

        var remembered = Assert.Single(await RememberedConsentsAsync(who, OAuthFixture.WebClient));
        Assert.Equal(["email", "openid"], remembered);
    }

    [Fact]
    public async Task Approve_Remembered_WidensAndNarrowsTheOneRememberedConsent_ScopeByScope()
    {
        // Each remembered decision updates the one remembered consent: scopes the member granted are added, scopes the
        // app asked for and the member left out are dropped, scopes the app did not ask for this time stay as they were.
        var who = await SignInAsync(fixture.Server);
        await RememberWithGrpcAsync(who, "openid email", granted: []);

        // Wider: a scope not remembered yet makes the member consent again.
        await RememberWithGrpcAsync(who, "openid phone", granted: []);
        Assert.Equal(["email", "openid", "phone"], Assert.Single(await RememberedConsentsAsync(who, OAuthFixture.WebClient)));
        Assert.False(await ConsentRequiredAsync(who, "openid email phone"));

        // Narrower: asked for profile too, the member grants it but leaves email out.
        await RememberWithGrpcAsync(who, "openid email phone profile", granted: ["openid", "phone", "profile"]);
        Assert.Equal(["openid", "phone", "profile"], Assert.Single(await RememberedConsentsAsync(who, OAuthFixture.WebClient)));
        Assert.True(await ConsentRequiredAsync(who, "openid email"));
        Assert.False(await ConsentRequiredAsync(who, "openid phone profile"));
    }

    [Fact]
    public async Task Authorize_TwoRememberedConsentsFinishingAtOnce_KeepOneRememberedConsent()
    {
        // Two browser tabs (or two devices) show the consent screen for the same app; the member remembers both. On
        // PostgreSQL a table lock holds both authorizations where they store the remembered consent, after the first has
        // looked for an existing one; the second must look only after the first has stored it. SQLite runs
        // /connect/authorize one at a time.
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var first = await DecidedConsentAsync(browser, remember: true);
        var second = await DecidedConsentAsync(browser, remember: true);

        Task<HttpResponseMessage[]> both;
        await using (var held = await DatabaseLock.HoldAsync(fixture.Database, "oauth_authorizations"))
        {
            both = Task.WhenAll(Task.Run(() => browser.GetAsync(first)), Task.Run(() => browser.GetAsync(second)));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, both) || fixture.Database.Provider != "postgres");
            await held.CommitAsync();
        }

        foreach (var answer in await both)
        {
            using (answer)
            {
                Assert.StartsWith(OAuthFixture.WebRedirect + "?", answer.Headers.Location!.ToString(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(["email", "openid"], Assert.Single(await RememberedConsentsAsync(who, OAuthFixture.WebClient)));
    }

    [Fact]
    public async Task Authorize_UpdatingTheRememberedConsent_WhileMyAppsRemovesTheApp_AnswersAsIfAfterTheRemoval()
    {
        // The member remembered their consent to the app (openid phone) and signed in to it; the app now asks for
        // openid email, and the member approves with "remember" in one tab while removing the app at "my apps" in
        // another. The removal commits while /connect/authorize is about to update the remembered consent: authorize
        // must answer as if it came just after the removal — the member's new decision stands, alone, as a new remembered
        // consent with a working code — and the removal still ends everything that existed before it (the phone scope of
        // the old consent included). On PostgreSQL a row lock on the remembered consent holds both, the removal waiting
        // first; SQLite runs them one after the other.
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        await RememberOnTheConsentPageAsync(browser, "openid phone", prompt: null);
        var before = await WebTokensAsync(who);
        var pkce = Pkce.Create();
        var finish = await DecidedConsentAsync(browser, remember: true, pkce);
        var apps = await browser.GetStringAsync("/account/apps");
        var removal = new Dictionary<string, string> { ["af"] = Hidden(apps, "af"), ["client_id"] = OAuthFixture.WebClient };
        var subject = who.Member.ObjectId.ToString("D");

        Task<HttpResponseMessage> removing, authorizing;
        if (fixture.Database.Provider == "postgres")
        {
            await using var held = await DatabaseLock.HoldRowsAsync(fixture.Database, "oauth_authorizations", $"\"Subject\" = '{subject}' AND \"Type\" = 'permanent'");
            removing = Task.Run(() => browser.PostAsync("/account/apps", new FormUrlEncodedContent(removal)));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, removing), "the removal did not wait for the remembered consent's row");
            authorizing = Task.Run(() => browser.GetAsync(finish));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, authorizing), "authorize did not wait");
            await held.CommitAsync();
        }
        else
        {
            removing = Task.FromResult(await browser.PostAsync("/account/apps", new FormUrlEncodedContent(removal)));
            authorizing = Task.FromResult(await browser.GetAsync(finish));
        }

        using var removed = await removing;
        using var answer = await authorizing;
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        var location = answer.Headers.Location!;
        Assert.StartsWith(OAuthFixture.WebRedirect + "?", location.ToString(), StringComparison.Ordinal);
        // What existed before the removal has ended; the decision taken after it stands.
        Assert.False(await fixture.IsActiveAsync(before.GetProperty("access_token").GetString()!));
        Assert.Equal(["email", "openid"], Assert.Single(await RememberedConsentsAsync(who, OAuthFixture.WebClient)));
        var (status, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(location, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(await fixture.IsActiveAsync(tokens.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task MyApps_RemovingTheAppWhileAnAuthorizationStoresTheRememberedConsent_EndsWhatThatAuthorizationIssued()
    {
        // The other order: /connect/authorize reaches the remembered consent first and the removal comes while it is
        // still open. The removal must then end what authorize stored — the remembered consent and the code's grant —
        // as if authorize had finished just before it. On PostgreSQL a row lock on the remembered consent holds
        // authorize at its update, and the removal waits for it; SQLite runs them one after the other.
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        await RememberOnTheConsentPageAsync(browser, "openid phone", prompt: null);
        var pkce = Pkce.Create();
        var finish = await DecidedConsentAsync(browser, remember: true, pkce);
        var apps = await browser.GetStringAsync("/account/apps");
        var removal = new Dictionary<string, string> { ["af"] = Hidden(apps, "af"), ["client_id"] = OAuthFixture.WebClient };
        var subject = who.Member.ObjectId.ToString("D");

        Task<HttpResponseMessage> removing, authorizing;
        if (fixture.Database.Provider == "postgres")
        {
            await using var held = await DatabaseLock.HoldRowsAsync(fixture.Database, "oauth_authorizations", $"\"Subject\" = '{subject}' AND \"Type\" = 'permanent'");
            authorizing = Task.Run(() => browser.GetAsync(finish));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, authorizing), "authorize did not wait for the remembered consent's row");
            removing = Task.Run(() => browser.PostAsync("/account/apps", new FormUrlEncodedContent(removal)));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, removing), "the removal did not wait");
            await held.CommitAsync();
        }
        else
        {
            authorizing = Task.FromResult(await browser.GetAsync(finish));
            removing = Task.FromResult(await browser.PostAsync("/account/apps", new FormUrlEncodedContent(removal)));
        }

        using var answer = await authorizing;
        using var removed = await removing;
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        var location = answer.Headers.Location!;
        Assert.StartsWith(OAuthFixture.WebRedirect + "?", location.ToString(), StringComparison.Ordinal);
        Assert.Empty(await RememberedConsentsAsync(who, OAuthFixture.WebClient));
        var (status, json) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(location, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Authorize_AfterARememberedConsent_ToAPublicAppWithACustomSchemeRedirect_ShowsTheConsentScreenAgain()
    {
        // native-app is public and answers at a custom scheme: any app on the device can claim that scheme and start its
        // own flow with its own PKCE. A remembered consent must not hand it a code with no screen; the member sees the
        // screen each time (one tap: the sign-in cookie is still valid), which offers no "remember" and says why.
        var who = await SignInAsync(fixture.Server);
        await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid profile", Pkce.Create()), remember: true);
        using var browser = Browser(fixture.Server, who);

        using var again = await browser.GetAsync(AuthorizeUrl(OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()));
        Assert.Equal(ConsentPagePath, again.Headers.Location?.AbsolutePath);
        var html = await browser.GetStringAsync(again.Headers.Location!.PathAndQuery);
        Assert.DoesNotContain("name=\"remember\"", html, StringComparison.Ordinal);
        Assert.Contains("asks you each time", html, StringComparison.Ordinal);

        // "remember" posted by hand is ignored: the code comes, and the next request still shows the screen.
        using var decided = await browser.PostAsync(ConsentPagePath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["request"] = Hidden(html, "request"), ["decision"] = "approve", ["remember"] = "true",
        }));
        using var finished = await browser.GetAsync(decided.Headers.Location!);
        Assert.StartsWith(OAuthFixture.NativeRedirect + "?", finished.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(Param(finished.Headers.Location!, "code"));
        using var third = await browser.GetAsync(AuthorizeUrl(OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()));
        Assert.Equal(ConsentPagePath, third.Headers.Location?.AbsolutePath);
        Assert.Empty(await RememberedConsentsAsync(who, OAuthFixture.NativeClient));

        // The same over gRPC: ConsentProcess.Do asks again.
        var started = await new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).DoAsync(
            Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()));
        Assert.True(started.ConsentRequired);
        Assert.False(started.RememberOffered);
    }

    /// <summary>
    /// Runs the web app's authorization request (with <paramref name="prompt"/>) through the consent page, approves it
    /// with "remember" ticked and follows the redirect back to /connect/authorize; returns the client redirect.
    /// </summary>
    private static async Task<Uri> RememberOnTheConsentPageAsync(HttpClient browser, string scope, string? prompt)
    {
        var url = AuthorizeUrl(OAuthFixture.WebClient, OAuthFixture.WebRedirect, scope, Pkce.Create()) + (prompt is null ? string.Empty : "&prompt=" + prompt);
        using var authorize = await browser.GetAsync(url);
        Assert.Equal(ConsentPagePath, authorize.Headers.Location!.AbsolutePath);
        var html = await browser.GetStringAsync(authorize.Headers.Location!.PathAndQuery);
        using var decided = await browser.PostAsync(ConsentPagePath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["request"] = Hidden(html, "request"), ["decision"] = "approve", ["remember"] = "true",
        }));
        using var finished = await browser.GetAsync(decided.Headers.Location!);
        Assert.StartsWith(OAuthFixture.WebRedirect + "?", finished.Headers.Location!.ToString(), StringComparison.Ordinal);
        return finished.Headers.Location!;
    }

    private const string ConsentPagePath = "/account/consent";

    /// <summary>The web app asks for <paramref name="scope"/> over gRPC; the member must be asked, and approves <paramref name="granted"/> (empty: all) with "remember".</summary>
    private async Task RememberWithGrpcAsync(SignedIn who, string scope, string[] granted)
    {
        var consent = new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc);
        var started = await consent.DoAsync(Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, scope, Pkce.Create()));
        Assert.True(started.ConsentRequired, $"the member was not asked for '{scope}'");
        var approve = new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken, Remember = true };
        approve.GrantedScopes.AddRange(granted);
        var approved = await consent.ApproveAsync(approve);
        Assert.StartsWith(OAuthFixture.WebRedirect + "?", approved.RedirectUri, StringComparison.Ordinal);
    }

    /// <summary>Whether the web app's authorization request for <paramref name="scope"/> would show <paramref name="who"/> the consent screen.</summary>
    private async Task<bool> ConsentRequiredAsync(SignedIn who, string scope) =>
        (await new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).DoAsync(
            Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, scope, Pkce.Create()))).ConsentRequired;

    /// <summary>The scopes (sorted) of each of <paramref name="who"/>'s remembered consents (valid permanent authorizations) to <paramref name="clientId"/>.</summary>
    private async Task<List<string[]>> RememberedConsentsAsync(SignedIn who, string clientId)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var subject = who.Member.ObjectId.ToString("D");
        var rows = await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<OpenIddictEntityFrameworkCoreAuthorization>()
            .Where(a => a.Subject == subject && a.Application!.ClientId == clientId && a.Type == "permanent" && a.Status == "valid")
            .Select(a => a.Scopes).ToListAsync();
        return [.. rows.Select(s => JsonSerializer.Deserialize<string[]>(s ?? "[]")!.Order(StringComparer.Ordinal).ToArray())];
    }
}
