using System.Net;
using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Oauth;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21 for the OAuth consent step: finishing a decided consent request at /connect/authorize uses up the
/// request, stores the remembered authorization and the authorization code's entry. Its LAST write (the update of the
/// code's entry) is made to fail on the real database (<see cref="FailureTriggers"/>), through <c>ConsentProcess.Approve</c> and
/// through the consent page's redirect: no authorization or code may be left, the consent request is not used up, the
/// same approval (or the same redirect) then yields a working code, and a replay after that is refused (one code per
/// consent request).
/// </summary>
public abstract partial class HalfWrittenConsentBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthFixture
{
    // Why an update: OpenIddict inserts the code's entry, then updates it once the code is made; that is the last write.
    private const string FailTheCode = "OLD.\"Type\" LIKE '%authorization_code'";

    private ConsentProcess.ConsentProcessClient Consent => new(fixture.Server.Grpc);

    [Fact]
    public async Task Approve_WhenStoringTheCodeFails_LeavesNoAuthorizationOrCode_AndTheSameApprovalThenSucceedsOnce()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var started = await Consent.DoAsync(Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", pkce));
        Assert.True(started.ConsentRequired);
        var approve = new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken, Remember = true };
        var before = await GrantsAsync();

        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "oauth_tokens", TriggeredWrite.Update, FailTheCode))
        {
            await HalfWrittenChecks.ExpectInternalAsync(() => Consent.ApproveAsync(approve).ResponseAsync);
        }

        Assert.Equal(before, await GrantsAsync());
        Assert.Equal(0, await UsedConsentsAsync(who.Member.Uid));

        // The member's same approval now issues a code that works.
        var approved = await Consent.ApproveAsync(approve);
        var redirect = new Uri(approved.RedirectUri);
        Assert.NotEmpty(Param(redirect, "code"));
        Assert.Equal(HttpStatusCode.OK, (await ExchangeAsync(redirect, pkce)).Status);

        // One code per consent request: approving it again is refused as before.
        await Errors.ExpectAsync(() => Consent.ApproveAsync(approve).ResponseAsync, StatusCode.NotFound, "REQUEST_INVALID");
    }

    [Fact]
    public async Task ConsentPageRedirect_WhenStoringTheCodeFails_LeavesNoAuthorizationOrCode_AndTheSameRedirectThenSucceedsOnce()
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var pkce = Pkce.Create();
        using var authorize = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["client_id"] = OAuthFixture.WebClient, ["redirect_uri"] = OAuthFixture.WebRedirect, ["response_type"] = "code",
            ["scope"] = "openid offline_access", ["state"] = "xyz", ["nonce"] = "n1", ["code_challenge"] = pkce.Challenge,
            ["code_challenge_method"] = "S256",
        }));
        var html = await browser.GetStringAsync(authorize.Headers.Location!.PathAndQuery);
        using var decided = await browser.PostAsync("/account/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["request"] = Hidden(html, "request"), ["decision"] = "approve", ["remember"] = "true",
        }));
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        var before = await GrantsAsync();

        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "oauth_tokens", TriggeredWrite.Update, FailTheCode))
        {
            using var failed = await browser.GetAsync(decided.Headers.Location!);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Null(failed.Headers.Location);
            Assert.DoesNotContain(FailureTriggers.Message, await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(before, await GrantsAsync());
        Assert.Equal(0, await UsedConsentsAsync(who.Member.Uid));

        // The browser's retry of the same redirect now reaches the app with a code that works; a replay does not.
        using var finished = await browser.GetAsync(decided.Headers.Location!);
        var redirect = finished.Headers.Location!;
        Assert.StartsWith(OAuthFixture.WebRedirect + "?", redirect.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await ExchangeAsync(redirect, pkce)).Status);
        using var replayed = await browser.GetAsync(decided.Headers.Location!);
        Assert.Equal("invalid_request", Param(replayed.Headers.Location!, "error"));
        Assert.Empty(Param(replayed.Headers.Location!, "code"));
    }

    private Task<(HttpStatusCode Status, System.Text.Json.JsonElement Json)> ExchangeAsync(Uri redirect, Pkce pkce) =>
        PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });

    /// <summary>Every authorization and token entry (a code's entry among them) with its status.</summary>
    private Task<List<string>> GrantsAsync() => DbAsync(async db =>
    {
        var authorizations = await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().OrderBy(a => a.Id).Select(a => "a:" + a.Id + ":" + a.Status).ToListAsync();
        var tokens = await db.Set<OpenIddictEntityFrameworkCoreToken>().OrderBy(t => t.Id).Select(t => "t:" + t.Id + ":" + t.Type + ":" + t.Status).ToListAsync();
        return authorizations.Concat(tokens).ToList();
    });

    private Task<int> UsedConsentsAsync(long uid) => DbAsync(db => db.Set<PendingConsent>().CountAsync(p => p.MemberUid == uid && p.Used != null));

    private async Task<T> DbAsync<T>(Func<PanDbContext, Task<T>> work)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<PanDbContext>());
    }

    private static string Hidden(string html, string name) =>
        WebUtility.HtmlDecode(HiddenInput().Matches(html).First(m => m.Groups["name"].Value == name).Groups["value"].Value);

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex HiddenInput();
}

public sealed class HalfWrittenConsentBehaviour_Sqlite(SqliteOAuthFixture f) : HalfWrittenConsentBehaviour<SqliteOAuthFixture>(f);

public sealed class HalfWrittenConsentBehaviour_Postgres(PostgresOAuthFixture f) : HalfWrittenConsentBehaviour<PostgresOAuthFixture>(f);
