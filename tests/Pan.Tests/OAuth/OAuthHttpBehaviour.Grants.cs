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
/// What ends a grant's tokens at the token and revocation endpoints (revoking its refresh token, replaying its code), and
/// whom its access tokens are for.
/// </summary>
public abstract partial class OAuthHttpBehaviour<TFixture>
{
    [Fact]
    public async Task Revoke_ARefreshToken_EndsTheAccessTokensOfItsGrant_AndNoOtherGrant()
    {
        // RFC 7009 2.1: revoking a refresh token also invalidates the access tokens of the same grant (an app signing the
        // member out revokes its refresh token; the access tokens it got with it must not stay active at introspection).
        var who = await SignInAsync(fixture.Server);
        var first = await WebTokensAsync(who);
        var (refreshed, rotated) = await fixture.RefreshAsync(first);
        Assert.Equal(HttpStatusCode.OK, refreshed);
        var other = await WebTokensAsync(who);

        var (revoked, _) = await PostFormAsync(fixture.Server, "/connect/revoke", new Dictionary<string, string>
        {
            ["token"] = rotated.GetProperty("refresh_token").GetString()!, ["token_type_hint"] = "refresh_token",
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });

        Assert.Equal(HttpStatusCode.OK, revoked);
        Assert.False(await fixture.IsActiveAsync(first.GetProperty("access_token").GetString()!));
        Assert.False(await fixture.IsActiveAsync(rotated.GetProperty("access_token").GetString()!));
        var (status, json) = await fixture.RefreshAsync(rotated);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
        // Another grant of the same member and app (another code, no remembered consent) is not touched.
        Assert.True(await fixture.IsActiveAsync(other.GetProperty("access_token").GetString()!));
        Assert.Equal(HttpStatusCode.OK, (await fixture.RefreshAsync(other)).Status);
    }

    [Fact]
    public async Task Revoke_ARefreshToken_UnderARememberedConsent_EndsThatDevicesGrantOnly_AndTheConsentStays()
    {
        // The member remembered their consent to the app and signed in to it on two devices: two codes, two refresh
        // tokens. The app signing out on device A revokes A's refresh token (RFC 7009 2.1: the tokens of the same grant,
        // A's code's chain); device B stays signed in to the app, and the member is not asked to consent again.
        var who = await SignInAsync(fixture.Server);
        var deviceA = await WebTokensAsync(who, remember: true);
        var (_, rotatedA) = await fixture.RefreshAsync(deviceA);
        var deviceB = await WebTokensAsync(who, remember: true);

        var (revoked, _) = await PostFormAsync(fixture.Server, "/connect/revoke", new Dictionary<string, string>
        {
            ["token"] = rotatedA.GetProperty("refresh_token").GetString()!, ["token_type_hint"] = "refresh_token",
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });

        Assert.Equal(HttpStatusCode.OK, revoked);
        Assert.False(await fixture.IsActiveAsync(deviceA.GetProperty("access_token").GetString()!));
        await AssertOnlyDeviceAEndedAsync(rotatedA, deviceB, who);
    }

    [Fact]
    public async Task Revoke_ARefreshTokenWhoseGrantIsASharedRememberedConsent_EndsThatRefreshTokenOnly()
    {
        // Chains issued under a remembered consent before each code got its own grant carry the consent (a permanent
        // authorization) as their grant, every device's alike, and nothing tells which access tokens came with which
        // refresh token. Revoking one such refresh token ends it alone (its access tokens expire); the tokens of the
        // other devices under the consent stay.
        var who = await SignInAsync(fixture.Server);
        var deviceA = await WebTokensAsync(who, remember: true);
        var consentA = await ShareAsync(who, null);
        var deviceB = await WebTokensAsync(who, remember: true);
        await ShareAsync(who, consentA);

        var (revoked, _) = await PostFormAsync(fixture.Server, "/connect/revoke", new Dictionary<string, string>
        {
            ["token"] = deviceA.GetProperty("refresh_token").GetString()!, ["token_type_hint"] = "refresh_token",
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });

        Assert.Equal(HttpStatusCode.OK, revoked);
        var (status, json) = await fixture.RefreshAsync(deviceA);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
        Assert.True(await fixture.IsActiveAsync(deviceA.GetProperty("access_token").GetString()!));
        Assert.True(await fixture.IsActiveAsync(deviceB.GetProperty("access_token").GetString()!));
        Assert.Equal(HttpStatusCode.OK, (await fixture.RefreshAsync(deviceB)).Status);
    }

    [Theory]
    [InlineData("refresh token reused")]
    [InlineData("code replayed")]
    public async Task Replay_UnderARememberedConsent_EndsThatDevicesGrantOnly_AndTheConsentStays(string replay)
    {
        // OpenIddict's theft detection revokes the grant of a code presented again or of a refresh token used again,
        // with every token of it. Under a remembered consent that grant is the one device's code's chain: another device
        // of the same member and app keeps its tokens, and the remembered consent (the member's decision) stays.
        var who = await SignInAsync(fixture.Server);
        var codeA = await WebCodeAsync(who, remember: true);
        var (exchanged, deviceA) = await PostFormAsync(fixture.Server, "/connect/token", codeA);
        Assert.Equal(HttpStatusCode.OK, exchanged);
        var (refreshed, rotatedA) = await fixture.RefreshAsync(deviceA);
        Assert.Equal(HttpStatusCode.OK, refreshed);
        var deviceB = await WebTokensAsync(who, remember: true);

        var (replayStatus, replayJson) = replay == "code replayed"
            ? await PostFormAsync(fixture.Server, "/connect/token", codeA)
            : await fixture.RefreshAsync(deviceA);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (replayStatus, replayJson.GetProperty("error").GetString()));
        await AssertOnlyDeviceAEndedAsync(rotatedA, deviceB, who);
    }

    [Fact]
    public async Task TokenEndpoint_TwoExchangesOfOneCodeRacing_OneWins_AndTheLoserRevokesTheWinnersTokens()
    {
        // RFC 6749 4.1.2: a code presented twice SHOULD revoke the tokens issued from it; a replay after the exchange
        // does (TokenEndpoint_ReusedCodeRevokesItsTokens_*). Two presentations at once must end the same way. On
        // PostgreSQL the table lock holds both exchanges after they read the code's entry (still valid) and before
        // either redeems it; SQLite runs grant requests one at a time, so there the second is a plain replay.
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", pkce));
        var exchange = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        };

        Task<(HttpStatusCode Status, JsonElement Json)[]> both;
        await using (var held = await DatabaseLock.HoldAsync(fixture.Database, "oauth_tokens"))
        {
            both = Task.WhenAll(
                Task.Run(() => PostFormAsync(fixture.Server, "/connect/token", exchange)),
                Task.Run(() => PostFormAsync(fixture.Server, "/connect/token", exchange)));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, both) || fixture.Database.Provider != "postgres");
            await held.CommitAsync();
        }

        var answers = await both;
        var winner = Assert.Single(answers, a => a.Status == HttpStatusCode.OK).Json;
        var loser = Assert.Single(answers, a => a.Status != HttpStatusCode.OK);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (loser.Status, loser.Json.GetProperty("error").GetString()));
        Assert.False(await fixture.IsActiveAsync(winner.GetProperty("access_token").GetString()!));
        var (status, json) = await fixture.RefreshAsync(winner);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("own grant")]
    [InlineData("shared remembered consent")]
    public async Task Revoke_RacingARefreshOfTheSameRefreshToken_LeavesNothingIssuedFromItWorking(string grant)
    {
        // The app signs the member out on a device (revokes its refresh token) while a refresh of that same token is under
        // way (another tab, a background job). Once the revocation answered OK, nothing issued from that refresh token may
        // work: the refresh is refused. Here the revocation revokes and commits after the refresh read the token (still
        // valid) and before it redeems it. The shared grant (a chain issued when codes shared the remembered consent) is
        // not ended by the revocation, only the token, so what the refresh issued there would work everywhere.
        var who = await SignInAsync(fixture.Server);
        var tokens = await WebTokensAsync(who);
        if (grant == "shared remembered consent")
        {
            await ShareAsync(who, null);
        }

        var (revoked, (status, json)) = await RevokeRacingARefreshAsync(who, tokens, revocationFirst: true);

        Assert.Equal(HttpStatusCode.OK, revoked);
        if (status == HttpStatusCode.OK)
        {
            Assert.False(await fixture.IsActiveAsync(json.GetProperty("access_token").GetString()!), "an access token issued from the revoked refresh token is active");
            Assert.Equal(HttpStatusCode.BadRequest, (await fixture.RefreshAsync(json)).Status);
            Assert.Fail("the refresh issued tokens (an access token an API checking offline takes) from a revoked refresh token");
        }

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Revoke_RacingARefreshThatRedeemsTheTokenFirst_AnswersOK_AndEndsTheTokensTheRefreshGot()
    {
        // The other order: the refresh redeems the token and commits while the revocation, having read the token as
        // valid, waits to revoke it. The app asked to end the grant, and the refresh's new tokens are of that grant: the
        // revocation must still end them and answer OK (RFC 7009 2.1), as it does when it comes after the refresh.
        var who = await SignInAsync(fixture.Server);
        var tokens = await WebTokensAsync(who);

        var (revoked, (status, json)) = await RevokeRacingARefreshAsync(who, tokens, revocationFirst: false);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, revoked);
        Assert.False(await fixture.IsActiveAsync(json.GetProperty("access_token").GetString()!));
        var (again, error) = await fixture.RefreshAsync(json);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (again, error.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task TokenEndpoint_TwoRefreshesOfOneRefreshTokenRacing_OneWins_AndTheLoserRevokesTheWholeFamily()
    {
        // SECURITY 14: a refresh token used again revokes its family (TokenEndpoint_ReusedRefreshToken... and
        // Replay_UnderARememberedConsent_*). Two uses at once (a stolen token raced against the app) must end the same
        // way: one refresh wins, the other is refused as a reuse and revokes the family, the winner's new tokens
        // included. On PostgreSQL a row lock on the refresh token's entry holds both refreshes after they read it (still
        // valid) and before either redeems it; SQLite runs grant requests one at a time, so there the second is a plain
        // reuse.
        var who = await SignInAsync(fixture.Server);
        var tokens = await WebTokensAsync(who);
        var entry = await fixture.RefreshTokenEntryAsync(who);

        Task<(HttpStatusCode Status, JsonElement Json)[]> both;
        await using (var held = await DatabaseLock.HoldRowsAsync(fixture.Database, "oauth_tokens", $"\"Id\" = '{entry}'"))
        {
            both = Task.WhenAll(Task.Run(() => fixture.RefreshAsync(tokens)), Task.Run(() => fixture.RefreshAsync(tokens)));
            Assert.True(
                await LockWaits.UntilAsync(fixture.Database, 2, both) || fixture.Database.Provider != "postgres",
                "the two refreshes did not both wait for the refresh token's row");
            await held.CommitAsync();
        }

        var answers = await both;
        var winner = Assert.Single(answers, a => a.Status == HttpStatusCode.OK).Json;
        var loser = Assert.Single(answers, a => a.Status != HttpStatusCode.OK);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (loser.Status, loser.Json.GetProperty("error").GetString()));
        Assert.False(await fixture.IsActiveAsync(winner.GetProperty("access_token").GetString()!), "the winner's access token is active");
        Assert.False(await fixture.IsActiveAsync(tokens.GetProperty("access_token").GetString()!), "the family's first access token is active");
        var (status, json) = await fixture.RefreshAsync(winner);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Revoke_UnderASharedRememberedConsent_RacingARefreshThatRedeemsTheTokenFirst_EndsWhatTheRefreshIssued_AndNoOtherDevice()
    {
        // A chain of the time when codes shared the remembered consent: revoking its refresh token ends that refresh
        // token, and a refresh racing it is refused (Revoke_RacingARefreshOfTheSameRefreshToken_*): nothing issued from
        // the token works, the other devices under the consent keep theirs. When the refresh redeems the token first
        // while the revocation, having read it as valid, waits for it (PostgreSQL: a row lock holds both), the revocation
        // must end the same: what the refresh issued from the token, and nothing of the other devices.
        var who = await SignInAsync(fixture.Server);
        var deviceA = await WebTokensAsync(who, remember: true);
        var consent = await ShareAsync(who, null);
        var entryA = await fixture.RefreshTokenEntryAsync(who);
        var deviceB = await WebTokensAsync(who, remember: true);
        await ShareAsync(who, consent);

        var (revoked, (status, json)) = await RevokeRacingARefreshAsync(who, deviceA, revocationFirst: false, entryA);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, revoked);
        var diagnosis = string.Join(", ", await TokenStatusesAsync(who));
        Assert.False(await fixture.IsActiveAsync(json.GetProperty("access_token").GetString()!), "the refresh's access token is active: " + diagnosis);
        var (again, error) = await fixture.RefreshAsync(json);
        Assert.True(again == HttpStatusCode.BadRequest, "the refresh's refresh token works: " + diagnosis);
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());
        if (fixture.Database.Provider == "postgres")
        {
            Assert.True(await fixture.IsActiveAsync(deviceB.GetProperty("access_token").GetString()!), "another device's access token was revoked: " + diagnosis);
            Assert.Equal(HttpStatusCode.OK, (await fixture.RefreshAsync(deviceB)).Status);
        }
        else
        {
            // SQLite runs the two one after the other: the revocation comes after the refresh and presents a used refresh
            // token, which is a reuse (SECURITY 14) and ends the whole grant, here the consent every device shares.
            Assert.False(await fixture.IsActiveAsync(deviceB.GetProperty("access_token").GetString()!));
        }
    }

    [Fact]
    public async Task MyApps_RemovingTheAppWhileARefreshOfItsTokenRuns_RefusesTheRefresh()
    {
        // The member removes the app at "my apps" while the app refreshes its token: once the removal is done, nothing
        // issued from the app's tokens may work. Here the removal revokes the refresh token's entry and commits after the
        // refresh read it (still valid) and before it redeems it: on PostgreSQL a row lock on the entry holds both, the
        // removal waiting first. SQLite runs them one after the other.
        var who = await SignInAsync(fixture.Server);
        var tokens = await WebTokensAsync(who, remember: true);
        using var browser = Browser(fixture.Server, who);
        var apps = await browser.GetStringAsync("/account/apps");
        var removal = new Dictionary<string, string> { ["af"] = Hidden(apps, "af"), ["client_id"] = OAuthFixture.WebClient };

        Task<HttpResponseMessage> removing;
        Task<(HttpStatusCode Status, JsonElement Json)> refreshing;
        if (fixture.Database.Provider == "postgres")
        {
            await using var held = await DatabaseLock.HoldRowsAsync(fixture.Database, "oauth_tokens", $"\"Id\" = '{await fixture.RefreshTokenEntryAsync(who)}'");
            removing = Task.Run(() => browser.PostAsync("/account/apps", new FormUrlEncodedContent(removal)));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, removing), "the removal did not wait for the refresh token's row");
            refreshing = Task.Run(() => fixture.RefreshAsync(tokens));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, refreshing), "the refresh did not wait for the refresh token's row");
            await held.CommitAsync();
        }
        else
        {
            removing = Task.FromResult(await browser.PostAsync("/account/apps", new FormUrlEncodedContent(removal)));
            refreshing = Task.FromResult(await fixture.RefreshAsync(tokens));
        }

        using var removed = await removing;
        var (status, json) = await refreshing;
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        if (status == HttpStatusCode.OK)
        {
            Assert.False(await fixture.IsActiveAsync(json.GetProperty("access_token").GetString()!), "an access token issued after the removal is active");
            Assert.Fail("the refresh issued tokens (an access token an API checking offline takes) after the app's removal");
        }

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task MyApps_WhenItsAuditLineIsRefused_RemovesNothing_AndTheSamePostThenRemovesTheApp()
    {
        // SECURITY 21: the removal (consent, grants, tokens) and its audit line are one transaction. The line is its last
        // write; refused, nothing may be left revoked, and the same post then removes the app.
        var who = await SignInAsync(fixture.Server);
        var tokens = await WebTokensAsync(who, remember: true);
        using var browser = Browser(fixture.Server, who);
        var apps = await browser.GetStringAsync("/account/apps");
        var removal = new Dictionary<string, string> { ["af"] = Hidden(apps, "af"), ["client_id"] = OAuthFixture.WebClient };

        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'oauth.revoke-app'"))
        {
            using var refused = await browser.PostAsync("/account/apps", new FormUrlEncodedContent(removal));
            Assert.Equal(HttpStatusCode.InternalServerError, refused.StatusCode);
        }

        Assert.True(await fixture.IsActiveAsync(tokens.GetProperty("access_token").GetString()!), "the removal revoked the app's tokens without its audit line");
        Assert.False(await ConsentRequiredAsync(who));
        using var removed = await browser.PostAsync("/account/apps", new FormUrlEncodedContent(removal));
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        Assert.False(await fixture.IsActiveAsync(tokens.GetProperty("access_token").GetString()!));
        Assert.True(await ConsentRequiredAsync(who));
    }

    [Fact]
    public async Task AccessTokens_AreAudienceRestrictedToTheirClient_AlsoAfterARefresh_AndOnlyItMayIntrospectThem()
    {
        // RFC 9700 2.3 / 4.10: access tokens are JWTs an app's API checks offline; without an audience, an API could not
        // tell a token issued to its own app from one issued to any other client of Pan's (a third party's included).
        var who = await SignInAsync(fixture.Server);
        var web = await WebTokensAsync(who);
        var (_, refreshed) = await fixture.RefreshAsync(web);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", pkce));
        var (_, native) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.FirstPartyRedirect,
            ["client_id"] = OAuthFixture.FirstPartyClient, ["code_verifier"] = pkce.Verifier,
        });

        Assert.Equal([OAuthFixture.WebClient], Audiences(web));
        Assert.Equal([OAuthFixture.WebClient], Audiences(refreshed));
        Assert.Equal([OAuthFixture.FirstPartyClient], Audiences(native));
        // Introspection tells the token's own app (its presenter and audience) only; another client learns nothing.
        Assert.True(await fixture.IsActiveAsync(web.GetProperty("access_token").GetString()!));
        Assert.False(await fixture.IsActiveAsync(native.GetProperty("access_token").GetString()!));
    }

    private static string[] Audiences(JsonElement tokens)
    {
        var payload = tokens.GetProperty("access_token").GetString()!.Split('.')[1];
        var aud = JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(payload)).RootElement.TryGetProperty("aud", out var value) ? value : default;
        return aud.ValueKind switch
        {
            JsonValueKind.String => [aud.GetString()!],
            JsonValueKind.Array => [.. aud.EnumerateArray().Select(a => a.GetString()!)],
            _ => [],
        };
    }

    /// <summary>
    /// The web app's tokens (access, refresh) for <paramref name="who"/> on one device: a code of its own exchanged. With
    /// <paramref name="remember"/> the member remembers the consent (or it is already remembered: no consent asked).
    /// </summary>
    private async Task<JsonElement> WebTokensAsync(SignedIn who, bool remember = false)
    {
        var (status, tokens) = await PostFormAsync(fixture.Server, "/connect/token", await WebCodeAsync(who, remember));
        Assert.Equal(HttpStatusCode.OK, status);
        return tokens;
    }

    /// <summary>A code of the web app for <paramref name="who"/>, as the form of its exchange at /connect/token.</summary>
    private async Task<Dictionary<string, string>> WebCodeAsync(SignedIn who, bool remember)
    {
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", pkce), remember);
        return new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        };
    }

    /// <summary>
    /// Makes the member's newest grant look like one issued when codes shared the remembered consent: with no
    /// <paramref name="consent"/>, the grant's authorization becomes a permanent one, whose id is returned; otherwise the
    /// grant's tokens are moved to <paramref name="consent"/>.
    /// </summary>
    private async Task<string> ShareAsync(SignedIn who, string? consent)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var subject = who.Member.ObjectId.ToString("D");
        var grant = await db.Set<OpenIddictEntityFrameworkCoreAuthorization>()
            .Where(a => a.Subject == subject && a.Type == "ad-hoc").Select(a => a.Id).SingleOrDefaultAsync();
        if (grant is null)
        {
            // The code was attached to the remembered consent itself: already such a grant.
            return consent ?? await db.Set<OpenIddictEntityFrameworkCoreAuthorization>()
                .Where(a => a.Subject == subject && a.Type == "permanent").Select(a => a.Id).SingleAsync() ?? string.Empty;
        }

        if (consent is null)
        {
            await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().Where(a => a.Id == grant).ExecuteUpdateAsync(u => u.SetProperty(a => a.Type, "permanent"));
            return grant;
        }

        await db.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Authorization!.Id == grant)
            .ExecuteUpdateAsync(u => u.SetProperty(t => EF.Property<string>(t, "AuthorizationId"), consent));
        return consent;
    }

    /// <summary>
    /// Revokes the refresh token of <paramref name="tokens"/> at /connect/revoke while the same token is refreshed;
    /// returns the revocation's status and the refresh's answer. On PostgreSQL a row lock on the refresh token's entry
    /// holds both after they read it (still valid), the one that is to go first waiting first, and PostgreSQL hands
    /// the row to its waiters in that order. SQLite runs grant requests one at a time: there they run in that order.
    /// </summary>
    private async Task<(HttpStatusCode Revoked, (HttpStatusCode Status, JsonElement Json) Refreshed)> RevokeRacingARefreshAsync(
        SignedIn who, JsonElement tokens, bool revocationFirst, string? entry = null)
    {
        var form = new Dictionary<string, string>
        {
            ["token"] = tokens.GetProperty("refresh_token").GetString()!, ["token_type_hint"] = "refresh_token",
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        };
        Func<Task<(HttpStatusCode Status, JsonElement Json)>> revoke = () => PostFormAsync(fixture.Server, "/connect/revoke", form);
        Func<Task<(HttpStatusCode Status, JsonElement Json)>> refresh = () => fixture.RefreshAsync(tokens);
        var (first, second) = revocationFirst ? (revoke, refresh) : (refresh, revoke);
        Task<(HttpStatusCode Status, JsonElement Json)> firstCall, secondCall;
        if (fixture.Database.Provider == "postgres")
        {
            await using var held = await DatabaseLock.HoldRowsAsync(fixture.Database, "oauth_tokens", $"\"Id\" = '{entry ?? await fixture.RefreshTokenEntryAsync(who)}'");
            firstCall = Task.Run(first);
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, firstCall), "the first call did not wait for the refresh token's row");
            secondCall = Task.Run(second);
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, secondCall), "the second call did not wait for the refresh token's row");
            await held.CommitAsync();
        }
        else
        {
            firstCall = Task.FromResult(await first());
            secondCall = Task.FromResult(await second());
        }

        var (revoked, refreshed) = revocationFirst ? (await firstCall, await secondCall) : (await secondCall, await firstCall);
        return (revoked.Status, refreshed);
    }


    /// <summary>Every token entry of <paramref name="who"/> as "type status", oldest first (for failure messages).</summary>
    private async Task<List<string>> TokenStatusesAsync(SignedIn who)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var subject = who.Member.ObjectId.ToString("D");
        return await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Subject == subject).OrderBy(t => t.CreationDate).ThenBy(t => t.Id).Select(t => t.Type + " " + t.Status).ToListAsync();
    }

    /// <summary>Whether the web app's next authorization request for <paramref name="who"/> would show the consent screen.</summary>
    private async Task<bool> ConsentRequiredAsync(SignedIn who) =>
        (await new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).DoAsync(
            Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", Pkce.Create()))).ConsentRequired;


    /// <summary>
    /// Device A's chain (its latest tokens, <paramref name="rotatedA"/>) has ended; device B's tokens still work and the
    /// member's remembered consent to the app stays.
    /// </summary>
    private async Task AssertOnlyDeviceAEndedAsync(JsonElement rotatedA, JsonElement deviceB, SignedIn who)
    {
        Assert.False(await fixture.IsActiveAsync(rotatedA.GetProperty("access_token").GetString()!));
        var (status, json) = await fixture.RefreshAsync(rotatedA);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
        Assert.True(await fixture.IsActiveAsync(deviceB.GetProperty("access_token").GetString()!));
        Assert.Equal(HttpStatusCode.OK, (await fixture.RefreshAsync(deviceB)).Status);
        Assert.False(await ConsentRequiredAsync(who));
    }
}
