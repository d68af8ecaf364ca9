using System.Net;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Server.Deletion;
using Pan.Server.Tokens;
using Pan.Oauth;
using Pan.Tests.Deletion;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// The consent flow and token exchanges over gRPC (pan.oauth.ConsentProcess, pan.oauth.App), and the refusals
/// OpenIddict applies to them: the same rules as the HTTP endpoints, since the services run those endpoints in-process.
/// </summary>
public abstract class OAuthGrpcBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthFixture
{
    private ConsentProcess.ConsentProcessClient Consent => new(fixture.Server.Grpc);

    private App.AppClient Apps => new(fixture.Server.Grpc);

    [Fact]
    public async Task ConsentFlow_DoApproveThenTokens_IssuesCodeTokensAndRotatesRefreshTokens()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var request = Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid profile email offline_access", pkce);

        var started = await Consent.DoAsync(request);
        var approved = await Consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken });
        var redirect = new Uri(approved.RedirectUri);
        var tokens = await Apps.GetAccessTokenAsync(new GetAccessTokenRequest
        {
            Code = Param(redirect, "code"), RedirectUri = OAuthFixture.NativeRedirect, ClientId = OAuthFixture.NativeClient, CodeVerifier = pkce.Verifier,
        });
        var refreshed = await Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = tokens.RefreshToken, ClientId = OAuthFixture.NativeClient });

        Assert.True(started.ConsentRequired);
        Assert.Equal("Native App", started.Detail.AppDisplayName);
        Assert.Equal("https://cdn.example.test/logo.png", started.Detail.AppLogoUrl);
        Assert.Equal(4, started.Detail.PermissionAll.Count);
        Assert.Equal(who.Member.Uid, started.Detail.User.Uid);
        Assert.StartsWith(OAuthFixture.NativeRedirect + "?", approved.RedirectUri, StringComparison.Ordinal);
        Assert.Equal(request.State, Param(redirect, "state"));
        Assert.Equal("Bearer", tokens.TokenType);
        Assert.InRange(tokens.ExpiresIn, 590, 600);
        Assert.NotEmpty(tokens.AccessToken);
        Assert.NotEmpty(tokens.IdToken);
        Assert.NotEqual(tokens.RefreshToken, refreshed.RefreshToken);
        Assert.NotEmpty(refreshed.AccessToken);
    }

    [Fact]
    public async Task GetRefreshToken_ReusingARotatedRefreshToken_RevokesTheWholeFamily()
    {
        var (_, tokens) = await CodeAndTokensAsync();
        var refreshed = await Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = tokens.RefreshToken, ClientId = OAuthFixture.NativeClient });

        await Errors.ExpectAsync(
            () => Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = tokens.RefreshToken, ClientId = OAuthFixture.NativeClient }).ResponseAsync,
            StatusCode.Unauthenticated, "invalid_grant");
        // The newest refresh token of the family died with it.
        await Errors.ExpectAsync(
            () => Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = refreshed.RefreshToken, ClientId = OAuthFixture.NativeClient }).ResponseAsync,
            StatusCode.Unauthenticated, "invalid_grant");
    }

    [Fact]
    public async Task GetRefreshToken_ReusingARotatedRefreshToken_WeeksLaterAfterTheJanitorsSweep_StillRevokesTheWholeFamily()
    {
        // Someone who stole the app's refresh token used it first and now holds the family; the app, unused for a
        // fortnight, then presents the refresh token it still has (valid for Pan:OAuth:RefreshTokenDays, 30). That reuse
        // must still be seen as one, and end the thief's tokens: the used token's entry must outlive the janitor's sweeps
        // for as long as the token itself could be presented.
        var (_, tokens) = await CodeAndTokensAsync();
        var stolen = await Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = tokens.RefreshToken, ClientId = OAuthFixture.NativeClient });

        fixture.Server.Clock.Advance(TimeSpan.FromDays(15));
        await fixture.Server.Services.GetServices<IHostedService>().OfType<Pan.Server.OAuth.OAuthJanitor>().Single().SweepOnceAsync(default);

        await Errors.ExpectAsync(
            () => Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = tokens.RefreshToken, ClientId = OAuthFixture.NativeClient }).ResponseAsync,
            StatusCode.Unauthenticated, "invalid_grant");
        await Errors.ExpectAsync(
            () => Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = stolen.RefreshToken, ClientId = OAuthFixture.NativeClient }).ResponseAsync,
            StatusCode.Unauthenticated, "invalid_grant");
    }

    [Fact]
    public async Task Janitor_PrunesTheEndedGrantOfARememberedConsent_AndKeepsTheConsent()
    {
        // A remembered consent is a permanent authorization with no tokens of its own; each code under it is its own
        // grant (an ad-hoc authorization). Once a grant ended and its tokens' entries are old enough, the janitor prunes
        // it, and must never prune the consent: the member would be asked again.
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        // The web app: a public app with a custom scheme has no remembered consent (its consent is never remembered).
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", pkce), remember: true);
        var tokens = await Apps.GetAccessTokenAsync(new GetAccessTokenRequest
        {
            Code = Param(redirect, "code"), RedirectUri = OAuthFixture.WebRedirect, ClientId = OAuthFixture.WebClient,
            ClientSecret = fixture.WebSecret, CodeVerifier = pkce.Verifier,
        });
        var (revoked, _) = await PostFormAsync(fixture.Server, "/connect/revoke", new Dictionary<string, string>
        {
            ["token"] = tokens.RefreshToken, ["token_type_hint"] = "refresh_token", ["client_id"] = OAuthFixture.WebClient,
            ["client_secret"] = fixture.WebSecret,
        });
        Assert.Equal(HttpStatusCode.OK, revoked);

        fixture.Server.Clock.Advance(TimeSpan.FromDays(31));
        await fixture.Server.Services.GetServices<IHostedService>().OfType<Pan.Server.OAuth.OAuthJanitor>().Single().SweepOnceAsync(default);

        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var subject = who.Member.ObjectId.ToString("D");
        var left = await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<OpenIddictEntityFrameworkCoreAuthorization>()
            .Where(a => a.Subject == subject).Select(a => a.Type + ":" + a.Status).ToListAsync();
        Assert.Equal(["permanent:valid"], left);
    }

    [Fact]
    public async Task GetAccessToken_ReusingACode_IsRefusedAndRevokesWhatTheCodeIssued()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", pkce));
        var exchange = new GetAccessTokenRequest
        {
            Code = Param(redirect, "code"), RedirectUri = OAuthFixture.WebRedirect, ClientId = OAuthFixture.WebClient,
            ClientSecret = fixture.WebSecret, CodeVerifier = pkce.Verifier,
        };
        var tokens = await Apps.GetAccessTokenAsync(exchange);

        await Errors.ExpectAsync(() => Apps.GetAccessTokenAsync(exchange).ResponseAsync, StatusCode.Unauthenticated, "invalid_grant");
        await Errors.ExpectAsync(
            () => Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = tokens.RefreshToken, ClientId = OAuthFixture.WebClient, ClientSecret = fixture.WebSecret }).ResponseAsync,
            StatusCode.Unauthenticated, "invalid_grant");
        var (status, introspection) = await PostFormAsync(fixture.Server, "/connect/introspect", new Dictionary<string, string>
        {
            ["token"] = tokens.AccessToken, ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(introspection.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task GetAccessToken_WithAnExpiredCode_IsInvalidGrant()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", pkce));

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(6));

        await Errors.ExpectAsync(
            () => Apps.GetAccessTokenAsync(new GetAccessTokenRequest
            {
                Code = Param(redirect, "code"), RedirectUri = OAuthFixture.NativeRedirect, ClientId = OAuthFixture.NativeClient, CodeVerifier = pkce.Verifier,
            }).ResponseAsync,
            StatusCode.Unauthenticated, "invalid_grant");
    }

    [Fact]
    public async Task GetAccessToken_WithTheWrongVerifier_IsInvalidGrant()
    {
        var who = await SignInAsync(fixture.Server);
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()));

        await Errors.ExpectAsync(
            () => Apps.GetAccessTokenAsync(new GetAccessTokenRequest
            {
                Code = Param(redirect, "code"), RedirectUri = OAuthFixture.NativeRedirect, ClientId = OAuthFixture.NativeClient, CodeVerifier = Pkce.Create().Verifier,
            }).ResponseAsync,
            StatusCode.Unauthenticated, "invalid_grant");
    }

    [Fact]
    public async Task TokenCalls_WithNulInAField_AreInvalidArgumentNamingIt()
    {
        // A value with NUL cannot travel in the form these calls post to /connect/token in-process.
        var code = await Errors.ExpectAsync(
            () => Apps.GetAccessTokenAsync(new GetAccessTokenRequest
            {
                Code = "a\0b", RedirectUri = OAuthFixture.NativeRedirect, ClientId = OAuthFixture.NativeClient, CodeVerifier = Pkce.Create().Verifier,
            }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        var client = await Errors.ExpectAsync(
            () => Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = "r", ClientId = OAuthFixture.NativeClient + "\0" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");

        Assert.Equal("code", code.BadRequest()!.FieldViolations[0].Field);
        Assert.Equal("client_id", client.BadRequest()!.FieldViolations[0].Field);
    }

    [Theory]
    [InlineData("client_id")]
    [InlineData("redirect_uri")]
    [InlineData("scope")]
    [InlineData("state")]
    [InlineData("nonce")]
    [InlineData("code_challenge")]
    public async Task Do_WithNulInAField_IsInvalidArgumentNamingIt(string field)
    {
        // A value with NUL cannot travel in the query Do sends to /connect/authorize in-process (PostgreSQL refuses it in text).
        var who = await SignInAsync(fixture.Server);
        var request = Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid profile", Pkce.Create());
        switch (field)
        {
            case "client_id": request.ClientId += "\0"; break;
            case "redirect_uri": request.RedirectUri += "\0"; break;
            case "scope": request.Scope += "\0"; break;
            case "state": request.State += "\0"; break;
            case "nonce": request.Nonce += "\0"; break;
            default: request.CodeChallenge += "\0"; break;
        }

        var ex = await Errors.ExpectAsync(() => Consent.DoAsync(request).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ARGUMENT");

        Assert.Equal(field, ex.BadRequest()!.FieldViolations[0].Field);
    }

    [Fact]
    public async Task ApproveAndReject_OfARequestIdWithNul_AreAnUnknownRequest()
    {
        var who = await SignInAsync(fixture.Server);

        await Errors.ExpectAsync(
            () => Consent.ApproveAsync(new ApproveRequest { RequestId = "a\0b", PanAccessToken = who.AccessToken }).ResponseAsync, StatusCode.NotFound, "REQUEST_INVALID");
        await Errors.ExpectAsync(
            () => Consent.RejectAsync(new RejectRequest { RequestId = "a\0b", PanAccessToken = who.AccessToken }).ResponseAsync, StatusCode.NotFound, "REQUEST_INVALID");
    }

    [Theory]
    [InlineData("com.example.app:/oauth/callback/other")]
    [InlineData("com.example.app:/oauth/CALLBACK")]
    [InlineData("https://evil.example.net/cb")]
    public async Task Do_WithARedirectUriNotRegisteredExactly_IsRefusedWithoutARedirect(string redirect)
    {
        var who = await SignInAsync(fixture.Server);

        var ex = await Errors.ExpectAsync(
            () => Consent.DoAsync(Request(who, OAuthFixture.NativeClient, redirect, "openid", Pkce.Create())).ResponseAsync,
            StatusCode.InvalidArgument, "invalid_request");

        Assert.Null(ex.Trailers.GetValue("redirect_uri"));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("plain", "plain")]
    [InlineData("S256", "")]
    public async Task Do_WithoutPkceOrWithPlain_IsInvalidRequest(string challengeKind, string method)
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var request = Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", pkce, method);
        request.CodeChallenge = challengeKind switch { "plain" => pkce.Verifier, "S256" => pkce.Challenge, _ => string.Empty };
        if (challengeKind == "S256")
        {
            // A challenge without its method would mean "plain" (RFC 7636 4.3), which Pan refuses.
            request.CodeChallengeMethod = string.Empty;
        }

        await Errors.ExpectAsync(() => Consent.DoAsync(request).ResponseAsync, StatusCode.InvalidArgument, "invalid_request");
    }

    [Fact]
    public async Task Do_AskingForAScopeTheClientMayNotHave_IsInvalidScope()
    {
        var who = await SignInAsync(fixture.Server);

        var ex = await Errors.ExpectAsync(
            () => Consent.DoAsync(Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid phone", Pkce.Create())).ResponseAsync,
            StatusCode.InvalidArgument, "invalid_scope");

        Assert.StartsWith(OAuthFixture.NativeRedirect + "?", ex.Trailers.GetValue("redirect_uri"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Do_WithAnUnknownClientOrWithoutAPanToken_IsRefused()
    {
        var who = await SignInAsync(fixture.Server);
        var unknown = Request(who, "no-such-client", OAuthFixture.NativeRedirect, "openid", Pkce.Create());
        var anonymous = Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create());
        anonymous.PanAccessToken = "not-a-token";

        var ex = await Assert.ThrowsAsync<RpcException>(() => Consent.DoAsync(unknown).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, "invalid_request"), (ex.StatusCode, ex.Info().Reason));
        await Errors.ExpectAsync(() => Consent.DoAsync(anonymous).ResponseAsync, StatusCode.Unauthenticated, "TOKEN_INVALID");
    }

    [Fact]
    public async Task ConsentProcess_WithAPanTokenOfAnotherFamilyApp_IsPermissionDenied_AndDecidesNothing()
    {
        // Any app of the family holds its members' Pan access tokens. Only an app the operator designated to run the
        // consent screen (Pan:OAuth:ConsentApps) may start, approve or reject consent for a member: another app could
        // otherwise remember consent to a third-party client and take a code for it that the member never saw.
        var who = await SignInAsync(fixture.Server);
        var shop = await TestMembers.AccessTokenAsync(fixture.Server, who.Member, "shop24h");
        var pkce = Pkce.Create();
        var foreign = Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid profile", pkce);
        foreign.PanAccessToken = shop;
        var started = await Consent.DoAsync(Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid profile", Pkce.Create()));

        await Errors.ExpectAsync(() => Consent.DoAsync(foreign).ResponseAsync, StatusCode.PermissionDenied, "APP_NOT_ALLOWED");
        await Errors.ExpectAsync(
            () => Consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = shop, Remember = true }).ResponseAsync,
            StatusCode.PermissionDenied, "APP_NOT_ALLOWED");
        await Errors.ExpectAsync(
            () => Consent.RejectAsync(new RejectRequest { RequestId = started.RequestId, PanAccessToken = shop }).ResponseAsync,
            StatusCode.PermissionDenied, "APP_NOT_ALLOWED");

        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            var consents = await db.Set<PendingConsent>().AsNoTracking().Where(p => p.MemberUid == who.Member.Uid).ToListAsync();
            Assert.Equal(0, Assert.Single(consents).Decision);
            var subject = who.Member.ObjectId.ToString("D");
            Assert.False(await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().AnyAsync(a => a.Subject == subject));
        }

        // The consent app's own token still decides the request the member saw.
        var approved = await Consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken });
        Assert.NotEmpty(Param(new Uri(approved.RedirectUri), "code"));
    }

    [Fact]
    public async Task ConsentProcess_WithoutConsentApps_RefusesEveryApp()
    {
        // The default names no app: the gRPC consent flow is off until the operator designates the app that runs it.
        await using var node = await PanServer.StartAsync(fixture.Database,
            new Dictionary<string, string?> { ["Pan:OAuth:AllowHttpOnLoopback"] = "true", ["Pan:Links:PublicBaseUrl"] = fixture.Server.HttpUri.ToString() },
            fixture.Server.Clock);
        var who = await SignInAsync(fixture.Server);

        await Errors.ExpectAsync(
            () => new ConsentProcess.ConsentProcessClient(node.Grpc).DoAsync(Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create())).ResponseAsync,
            StatusCode.PermissionDenied, "APP_NOT_ALLOWED");
    }

    [Fact]
    public async Task ConsentProcess_WithAConsentAppNamedByItsNumber_AcceptsThatAppsTokensOnly()
    {
        await using var node = await PanServer.StartAsync(fixture.Database,
            new Dictionary<string, string?>
            {
                ["Pan:OAuth:AllowHttpOnLoopback"] = "true", ["Pan:Links:PublicBaseUrl"] = fixture.Server.HttpUri.ToString(), ["Pan:OAuth:ConsentApps:0"] = "8",
            },
            fixture.Server.Clock);
        var who = await SignInAsync(fixture.Server);
        var shop = Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create());
        shop.PanAccessToken = await TestMembers.AccessTokenAsync(fixture.Server, who.Member, "shop24h");
        var consent = new ConsentProcess.ConsentProcessClient(node.Grpc);

        var started = await consent.DoAsync(shop);

        Assert.True(started.ConsentRequired);
        await Errors.ExpectAsync(
            () => consent.DoAsync(Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create())).ResponseAsync,
            StatusCode.PermissionDenied, "APP_NOT_ALLOWED");
    }

    [Fact]
    public async Task Reject_ReturnsTheRedirectWithAccessDeniedAndState_AndTheRequestIsGone()
    {
        var who = await SignInAsync(fixture.Server);
        var request = Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create());
        var started = await Consent.DoAsync(request);

        var rejected = await Consent.RejectAsync(new RejectRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken });

        var redirect = new Uri(rejected.RedirectUri);
        Assert.Equal(("access_denied", request.State), (Param(redirect, "error"), Param(redirect, "state")));
        Assert.Empty(Param(redirect, "code"));
        await Errors.ExpectAsync(
            () => Consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken }).ResponseAsync,
            StatusCode.NotFound, "REQUEST_INVALID");
    }

    [Fact]
    public async Task Approve_ByAnotherMember_IsNotFound()
    {
        var who = await SignInAsync(fixture.Server);
        var other = await SignInAsync(fixture.Server);
        var started = await Consent.DoAsync(Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()));

        await Errors.ExpectAsync(
            () => Consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = other.AccessToken }).ResponseAsync,
            StatusCode.NotFound, "REQUEST_INVALID");
    }

    [Fact]
    public async Task Do_AfterARememberedConsent_CompletesAtOnce_AndImplicitClientsNeverAsk()
    {
        // The confidential web app: its secret authenticates the code exchange, so a remembered consent may skip the
        // screen (a public app with a custom scheme never does: OAuthHttpBehaviour.Authorize_AfterARememberedConsent_ToAPublicAppWithACustomSchemeRedirect_ShowsTheConsentScreenAgain).
        var who = await SignInAsync(fixture.Server);
        var first = await Consent.DoAsync(Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid profile", Pkce.Create()));
        Assert.True(first.ConsentRequired);
        Assert.True(first.RememberOffered);
        await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid profile", Pkce.Create()), remember: true);

        var again = await Consent.DoAsync(Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid", Pkce.Create()));
        var wider = await Consent.DoAsync(Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid email", Pkce.Create()));
        var firstParty = await Consent.DoAsync(Request(who, OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", Pkce.Create()));

        Assert.False(again.ConsentRequired);
        Assert.NotEmpty(Param(new Uri(again.RedirectUri), "code"));
        Assert.True(wider.ConsentRequired);
        Assert.False(firstParty.ConsentRequired);
        Assert.NotEmpty(Param(new Uri(firstParty.RedirectUri), "code"));
    }

    [Theory]
    [InlineData("consent asked")]
    [InlineData("implicit consent")]
    public async Task Do_WhileTheMembersDeletionIsUncommitted_IsTokenInvalid_AndWritesNothing(string consent)
    {
        // The Pan token is checked while the deletion's transaction is open (on PostgreSQL the member still looks live);
        // authorize then waits for the member's row and finds no member. The caller has no browser to sign in with: it
        // gets what a token of a deleted member gets, not a redirect to Pan's sign-in page.
        var who = await SignInAsync(fixture.Server);
        var request = consent == "implicit consent"
            ? Request(who, OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", Pkce.Create())
            : Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create());
        Task<DoResponse> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, who.Member.Uid))
        {
            call = Task.Run(() => Consent.DoAsync(request).ResponseAsync);
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        await Errors.ExpectAsync(() => call, StatusCode.Unauthenticated, "TOKEN_INVALID");
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        Assert.False(await db.Set<PendingConsent>().AnyAsync(p => p.MemberUid == who.Member.Uid));
    }

    [Fact]
    public async Task GetDetail_DescribesTheAppAndTheMember_InTheCallersLanguage()
    {
        var who = await SignInAsync(fixture.Server);
        var headers = new Metadata { { "authorization", "Bearer " + who.AccessToken }, { "accept-language", "zh-TW" } };

        var detail = await Apps.GetDetailAsync(
            new GetDetailRequest { ClientId = OAuthFixture.NativeClient, RedirectUri = OAuthFixture.NativeRedirect, Scope = "openid email", ResponseType = "code" }, headers);

        Assert.Equal(("Native App", "https://example.test/privacy", "https://example.test/terms", "A reader for the forum."),
            (detail.AppDisplayName, detail.AppPrivacyPolicyUrl, detail.AppTermsOfServiceUrl, detail.AppSummary));
        Assert.Equal(["使用您的 Pan 會員身分登入", "查看您的電子郵件地址"], detail.PermissionAll);
        Assert.Equal((who.Member.Uid, who.Member.ObjectId.ToString("D"), who.Member.Email), (detail.User.Uid, detail.User.ObjectId, detail.User.Email));
        await Errors.ExpectAsync(
            () => Apps.GetDetailAsync(new GetDetailRequest { ClientId = OAuthFixture.NativeClient, RedirectUri = "https://evil.example.net/", Scope = "openid" }).ResponseAsync,
            StatusCode.InvalidArgument, "invalid_request");
    }

    [Fact]
    public async Task TwoNodes_OneStartsTheFlowAndTheOtherFinishesIt()
    {
        await using var second = await PanServer.StartAsync(fixture.Database,
            new Dictionary<string, string?>(OAuthFixture.ProviderSettings()) { ["Pan:Links:PublicBaseUrl"] = fixture.Server.HttpUri.ToString() },
            fixture.Server.Clock);
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();

        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid offline_access", pkce), approveOn: second);
        var tokens = await new App.AppClient(fixture.Server.Grpc).GetAccessTokenAsync(new GetAccessTokenRequest
        {
            Code = Param(redirect, "code"), RedirectUri = OAuthFixture.NativeRedirect, ClientId = OAuthFixture.NativeClient, CodeVerifier = pkce.Verifier,
        });
        var refreshed = await new App.AppClient(second.Grpc).GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = tokens.RefreshToken, ClientId = OAuthFixture.NativeClient });
        using var jwksOne = await fixture.Server.Http.GetAsync("/.well-known/jwks");
        using var jwksTwo = await second.Http.GetAsync("/.well-known/jwks");

        Assert.NotEmpty(refreshed.AccessToken);
        Assert.Equal(await jwksOne.Content.ReadAsStringAsync(), await jwksTwo.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Approve_WithFewerScopes_GrantsOnlyThose()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var started = await Consent.DoAsync(Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid email offline_access", pkce));

        var approved = await Consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken, GrantedScopes = { "openid", "phone" } });
        var tokens = await Apps.GetAccessTokenAsync(new GetAccessTokenRequest
        {
            Code = Param(new Uri(approved.RedirectUri), "code"), RedirectUri = OAuthFixture.NativeRedirect, ClientId = OAuthFixture.NativeClient, CodeVerifier = pkce.Verifier,
        });

        Assert.Equal("openid", tokens.Scope);
        Assert.Empty(tokens.RefreshToken);
    }

    [Fact]
    public async Task Approve_WithGrantedScopesNoneOfWhichWasRequested_IsInvalidArgument_AndGrantsNothing()
    {
        // The member's screen sends what the member left ticked; a list that names none of the requested scopes (a
        // stale or broken screen) must not turn into "everything requested", which is what an empty list means.
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var started = await Consent.DoAsync(Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid email offline_access", pkce));

        var refused = await Errors.ExpectAsync(
            () => Consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken, GrantedScopes = { "phone" } }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        var approved = await Consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken, GrantedScopes = { "openid" } });
        var tokens = await Apps.GetAccessTokenAsync(new GetAccessTokenRequest
        {
            Code = Param(new Uri(approved.RedirectUri), "code"), RedirectUri = OAuthFixture.NativeRedirect, ClientId = OAuthFixture.NativeClient, CodeVerifier = pkce.Verifier,
        });

        Assert.Equal("granted_scopes", refused.BadRequest()!.FieldViolations[0].Field);
        Assert.Equal("openid", tokens.Scope);
        Assert.Empty(tokens.RefreshToken);
    }

    [Fact]
    public async Task DeletingTheMember_EndsTheirGrants()
    {
        var (who, tokens) = await CodeAndTokensAsync();
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<TokenService>();
            var caller = await service.ValidateAccessTokenAsync(who.AccessToken, default);
            var verify = await service.IssueVerifyTokenAsync(who.Member.Uid, VerifyPurposes.Delete, default);
            await scope.ServiceProvider.GetRequiredService<MemberDeletion>().DeleteMemberAsync(caller!, verify.Token, default);
        }

        await Errors.ExpectAsync(
            () => Apps.GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = tokens.RefreshToken, ClientId = OAuthFixture.NativeClient }).ResponseAsync,
            StatusCode.Unauthenticated, "invalid_grant");
    }

    private async Task<(SignedIn Who, GetAccessTokenResponse Tokens)> CodeAndTokensAsync()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid offline_access", pkce));
        var tokens = await Apps.GetAccessTokenAsync(new GetAccessTokenRequest
        {
            Code = Param(redirect, "code"), RedirectUri = OAuthFixture.NativeRedirect, ClientId = OAuthFixture.NativeClient, CodeVerifier = pkce.Verifier,
        });
        return (who, tokens);
    }
}

public sealed class OAuthGrpcBehaviour_Sqlite(SqliteOAuthFixture f) : OAuthGrpcBehaviour<SqliteOAuthFixture>(f);

public sealed class OAuthGrpcBehaviour_Postgres(PostgresOAuthFixture f) : OAuthGrpcBehaviour<PostgresOAuthFixture>(f);
