using System.Net;
using System.Text.Json;
using Grpc.Core;
using Pan.Oauth;
using Pan.Tests.Admin;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// A member suspended after it signed in to the pages and to an app: /connect/authorize issues no code (its cookie's
/// session ended with the suspension, so the browser is sent to sign in, where a suspended member is refused), a code
/// issued just before is refused at the exchange, and the refresh grant is refused, also once the member is restored.
/// </summary>
public abstract partial class OAuthHttpBehaviour<TFixture>
{
    [Fact]
    public async Task Authorize_ForASignedInMemberSuspendedSince_SendsTheBrowserToSignIn_AndIssuesNoCode()
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var url = AuthorizeUrl(OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", Pkce.Create());
        using (var before = await browser.GetAsync(url))
        {
            Assert.NotEmpty(Param(before.Headers.Location!, "code"));
        }

        await TestSuspensions.SuspendAsync(fixture.Server, who.Member.Uid);

        using var answer = await browser.GetAsync(url);
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        Assert.Equal("/account/sign-in", answer.Headers.Location!.AbsolutePath);
        using var silent = await browser.GetAsync(url + "&prompt=none");
        Assert.Equal("login_required", Param(silent.Headers.Location!, "error"));
        Assert.Empty(Param(silent.Headers.Location!, "code"));
        // The in-process flow (ConsentProcess) acts with the member's Pan access token, which ended with the suspension.
        await Assert.ThrowsAsync<RpcException>(() => new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc)
            .DoAsync(Request(who, OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", Pkce.Create())).ResponseAsync);
    }

    /// <summary>
    /// /connect/authorize racing the member's suspension, for a client of implicit consent and for a consent the member
    /// has just granted (and asked to remember): on PostgreSQL it has read the member and its cookie's session and waits
    /// for the suspension at the member's row; on SQLite it waits for the suspension's commit before it reads anything.
    /// Either way it then finds the session ended, sends the browser to sign in, and writes nothing for the member: no
    /// code, no authorization, no remembered consent.
    /// </summary>
    [Fact]
    public async Task Authorize_WhileTheMembersSuspensionIsUncommitted_IssuesNoCode_AndWritesNothing()
    {
        foreach (var consent in new[] { false, true })
        {
            var who = await SignInAsync(fixture.Server);
            using var browser = Browser(fixture.Server, who);
            var url = consent
                ? (await DecidedConsentAsync(browser, remember: true)).OriginalString
                : AuthorizeUrl(OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", Pkce.Create());
            var before = await RowsNamingAsync(who);
            Task<HttpResponseMessage> call;
            await using (var suspension = await UncommittedSuspension.StartAsync(fixture.Server, fixture.Database, who.Member.Uid))
            {
                call = Task.Run(() => browser.GetAsync(url));
                Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
                await suspension.CommitAsync();
            }

            using var answer = await call;
            Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
            Assert.Equal("/account/sign-in", answer.Headers.Location!.AbsolutePath);
            Assert.Empty(Param(answer.Headers.Location!, "code"));
            // The suspension revoked what there was (statuses change, rows stay); the authorization added nothing.
            Assert.Equal(before.Count, (await RowsNamingAsync(who)).Count);
        }
    }

    [Fact]
    public async Task CodeExchange_OfACodeIssuedJustBeforeTheSuspension_IsInvalidGrant()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", pkce));

        await TestSuspensions.SuspendAsync(fixture.Server, who.Member.Uid, fixture.Server.Clock.GetUtcNow().AddHours(1));

        var (status, json) = await ExchangeWebCodeAsync(redirect, pkce);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task RefreshGrant_OfASuspendedMember_IsInvalidGrant_AndStaysDeadAfterTheRestore()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", pkce), remember: true);
        var (exchanged, tokens) = await ExchangeWebCodeAsync(redirect, pkce);
        Assert.Equal(HttpStatusCode.OK, exchanged);

        await TestSuspensions.SuspendAsync(fixture.Server, who.Member.Uid);

        var refused = await fixture.RefreshAsync(tokens);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (refused.Status, refused.Json.GetProperty("error").GetString()));
        Assert.False(await fixture.IsActiveAsync(tokens.GetProperty("access_token").GetString()!));

        await TestSuspensions.RestoreAsync(fixture.Server, who.Member.Uid);
        var afterRestore = await fixture.RefreshAsync(tokens);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (afterRestore.Status, afterRestore.Json.GetProperty("error").GetString()));
        Assert.False(await fixture.IsActiveAsync(tokens.GetProperty("access_token").GetString()!));
    }

    private Task<(HttpStatusCode Status, JsonElement Json)> ExchangeWebCodeAsync(Uri redirect, Pkce pkce) =>
        PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
}
