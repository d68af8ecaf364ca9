using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Tests.Infrastructure;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// The provider's HTTP side as a browser and an app's back end see it: discovery, /connect/authorize with and
/// without the member cookie, the consent page (antiforgery, CSP), the token, userinfo and introspection endpoints,
/// the refusals, and the "my apps" page that revokes an app.
/// </summary>
public abstract partial class OAuthHttpBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthFixture
{
    [Fact]
    public async Task Discovery_OffersOnlyTheCodeFlowWithS256AndEveryEndpoint()
    {
        var json = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync("/.well-known/openid-configuration")).RootElement;
        string[] Values(string name) => [.. json.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

        Assert.Equal(fixture.Server.HttpUri.ToString(), json.GetProperty("issuer").GetString());
        Assert.Equal(["authorization_code", "refresh_token"], Values("grant_types_supported").Order());
        Assert.Equal(["code"], Values("response_types_supported"));
        Assert.Equal(["S256"], Values("code_challenge_methods_supported"));
        foreach (var (name, path) in new[]
        {
            ("authorization_endpoint", "connect/authorize"), ("token_endpoint", "connect/token"), ("revocation_endpoint", "connect/revoke"),
            ("introspection_endpoint", "connect/introspect"), ("userinfo_endpoint", "connect/userinfo"), ("end_session_endpoint", "connect/endsession"),
            ("jwks_uri", ".well-known/jwks"),
        })
        {
            Assert.Equal(fixture.Server.HttpUri + path, json.GetProperty(name).GetString());
        }

        var jwks = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync("/.well-known/jwks")).RootElement;
        Assert.Equal("RSA", Assert.Single(jwks.GetProperty("keys").EnumerateArray()).GetProperty("kty").GetString());
    }

    [Fact]
    public async Task Authorize_WithoutTheMemberCookie_SendsTheBrowserToSignInAndBack()
    {
        using var browser = Browser(fixture.Server, null);
        var url = AuthorizeUrl(OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create());

        using var response = await browser.GetAsync(url);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal("/account/sign-in", location.AbsolutePath);
        var returnUrl = QueryHelpers.ParseQuery(location.Query)["returnUrl"].ToString();
        Assert.StartsWith("/connect/authorize?", returnUrl, StringComparison.Ordinal);
        Assert.Contains("client_id=native-app", returnUrl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_WithTheCookie_ConsentPageThenCodeThenTokensAndUserInfo()
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var pkce = Pkce.Create();

        using var authorize = await browser.GetAsync(AuthorizeUrl(OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid profile email", pkce, "zh-TW"));
        var consentUrl = authorize.Headers.Location!;
        using var page = await browser.GetAsync(consentUrl.PathAndQuery + "&lang=zh-TW");
        var html = await page.Content.ReadAsStringAsync();
        using var decided = await browser.PostAsync("/account/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["request"] = Hidden(html, "request"), ["decision"] = "approve", ["remember"] = "true",
        }));
        using var finished = await browser.GetAsync(decided.Headers.Location!);
        using var replayed = await browser.GetAsync(decided.Headers.Location!);
        var redirect = finished.Headers.Location!;
        var (status, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        using var userInfoRequest = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        userInfoRequest.Headers.Authorization = new("Bearer", tokens.GetProperty("access_token").GetString());
        using var userInfo = await fixture.Server.Http.SendAsync(userInfoRequest);
        var claims = JsonDocument.Parse(await userInfo.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("/account/consent", consentUrl.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Web App", html, StringComparison.Ordinal);
        Assert.Contains("查看您的電子郵件地址", html, StringComparison.Ordinal);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("form-action 'self' https://app.example.test", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        Assert.StartsWith(OAuthFixture.WebRedirect + "?", redirect.ToString(), StringComparison.Ordinal);
        Assert.Equal("invalid_request", Param(replayed.Headers.Location!, "error"));
        Assert.Empty(Param(replayed.Headers.Location!, "code"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(who.Member.ObjectId.ToString("D"), claims.GetProperty("sub").GetString());
        Assert.Equal(who.Member.Email, claims.GetProperty("email").GetString());
        Assert.True(userInfo.Headers.CacheControl?.NoStore, "userinfo answers with the member's claims must not be stored by any cache");
        Assert.False(claims.TryGetProperty("phone_number", out _), "phone was not granted");

        // Remembered: the next request for these scopes goes straight back to the app.
        using var again = await browser.GetAsync(AuthorizeUrl(OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid email", Pkce.Create()));
        Assert.StartsWith(OAuthFixture.WebRedirect + "?", again.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsentPage_Deny_SendsAccessDeniedToTheApp_AndPagesWithoutTheCookieAskForSignIn()
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        using var anonymous = Browser(fixture.Server, null);
        using var authorize = await browser.GetAsync(AuthorizeUrl(OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()));
        var html = await browser.GetStringAsync(authorize.Headers.Location!.PathAndQuery);

        using var signInForConsent = await anonymous.GetAsync(authorize.Headers.Location!.PathAndQuery);
        using var signInForApps = await anonymous.GetAsync("/account/apps");
        using var denied = await browser.PostAsync("/account/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["request"] = Hidden(html, "request"), ["decision"] = "reject",
        }));
        using var back = await browser.GetAsync(denied.Headers.Location!);

        Assert.Equal("/account/sign-in", signInForConsent.Headers.Location!.AbsolutePath);
        Assert.Equal("/account/sign-in", signInForApps.Headers.Location!.AbsolutePath);
        var location = back.Headers.Location!;
        Assert.StartsWith(OAuthFixture.NativeRedirect + "?", location.ToString(), StringComparison.Ordinal);
        Assert.Equal(("access_denied", "xyz"), (Param(location, "error"), Param(location, "state")));
        Assert.Empty(Param(location, "code"));
    }

    [Fact]
    public async Task ConsentPost_WithoutTheAntiforgeryToken_IsRefused()
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        using var authorize = await browser.GetAsync(AuthorizeUrl(OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()));
        var id = QueryHelpers.ParseQuery(authorize.Headers.Location!.Query)["request"].ToString();

        using var decided = await browser.PostAsync("/account/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["request"] = id, ["decision"] = "approve",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, decided.StatusCode);
    }

    [Fact]
    public async Task ConsentPage_OfAnotherMembersRequest_ShowsNothing()
    {
        var who = await SignInAsync(fixture.Server);
        var other = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        using var stranger = Browser(fixture.Server, other);
        using var authorize = await browser.GetAsync(AuthorizeUrl(OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()));

        using var page = await stranger.GetAsync(authorize.Headers.Location!.PathAndQuery);

        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.DoesNotContain("Native App", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_WithoutARedirectUri_AsksConsent_AndSendsTheCodeToTheClientsOneRegisteredUri()
    {
        // RFC 6749 3.1.2.3: a request without openid may leave redirect_uri out when the client registered one; OpenIddict
        // accepts it and answers at that one. The consent page, its post and ConsentProcess.Approve read the pending
        // request's redirect URI; without one they failed (HTTP 500, gRPC INTERNAL) and the member could not consent.
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var pkce = Pkce.Create();
        var url = QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["client_id"] = OAuthFixture.NativeClient, ["response_type"] = "code", ["scope"] = "profile", ["state"] = "xyz",
            ["code_challenge"] = pkce.Challenge, ["code_challenge_method"] = "S256",
        });

        using var authorize = await browser.GetAsync(url);
        using var page = await browser.GetAsync(authorize.Headers.Location!.PathAndQuery);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("form-action 'self' com.example.app:", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        using var decided = await browser.PostAsync("/account/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["request"] = Hidden(html, "request"), ["decision"] = "approve",
        }));
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        using var finished = await browser.GetAsync(decided.Headers.Location!);
        var redirect = finished.Headers.Location!;
        var (status, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["client_id"] = OAuthFixture.NativeClient,
            ["code_verifier"] = pkce.Verifier,
        });

        var started = await new Pan.Oauth.ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).DoAsync(new Pan.Oauth.DoRequest
        {
            PanAccessToken = who.AccessToken, ClientId = OAuthFixture.NativeClient, ResponseType = "code", Scope = "profile", State = "s2",
            CodeChallenge = pkce.Challenge, CodeChallengeMethod = "S256",
        });
        var approved = await new Pan.Oauth.ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).ApproveAsync(
            new Pan.Oauth.ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken });

        Assert.StartsWith(OAuthFixture.NativeRedirect + "?", redirect.ToString(), StringComparison.Ordinal);
        Assert.Equal("xyz", Param(redirect, "state"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(tokens.TryGetProperty("access_token", out _));
        Assert.True(started.ConsentRequired);
        Assert.StartsWith(OAuthFixture.NativeRedirect + "?", approved.RedirectUri, StringComparison.Ordinal);
        Assert.NotEmpty(Param(new Uri(approved.RedirectUri), "code"));
    }

    [Theory]
    [InlineData("&state=other")]
    [InlineData("&nonce=n2")]
    [InlineData("&scope=openid")]
    [InlineData("&max_age=0&max_age=0")]
    [InlineData("&prompt=login&prompt=login")]
    public async Task Authorize_WithAParameterGivenTwice_IsInvalidRequest_AndIssuesNoCode(string twice)
    {
        // RFC 6749 3.1: a request parameter MUST NOT be given more than once. OpenIddict read a repeated one as absent, so
        // the first-party app (implicit consent) got its code without the state it checks, without the nonce, or
        // without the fresh sign-in its max_age or prompt=login asked for.
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);

        using var response = await browser.GetAsync(AuthorizeUrl(OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", Pkce.Create()) + twice);

        Assert.Null(response.Headers.Location);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_request", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserInfo_WithATokenWithoutTheOpenidScope_IsInsufficientScope_AndAnswersNoClaims()
    {
        // OpenID Connect's userinfo is for tokens issued with openid (OIDC Core 5.3); an OAuth-only token (here: email)
        // was answered with the member's sub and email.
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "email", pkce));
        var (_, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new("Bearer", tokens.GetProperty("access_token").GetString()!);

        using var response = await fixture.Server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("insufficient_scope", string.Join(' ', response.Headers.WwwAuthenticate.Select(h => h.ToString())), StringComparison.Ordinal);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(who.Member.Email!, body, StringComparison.Ordinal);
        Assert.DoesNotContain(who.Member.ObjectId.ToString("D"), body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserInfo_WithTheAccessTokenInTheQueryString_IsRefused_InTheHeaderOrTheFormItIsAnswered()
    {
        // RFC 6750 2.3 and RFC 9700 4.3.2: a token in the URL lands in browser history, proxy and server access logs and
        // Referer headers; userinfo answered such a request with the member's claims.
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid email", pkce));
        var (_, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        var accessToken = tokens.GetProperty("access_token").GetString()!;

        using var inQuery = await fixture.Server.Http.GetAsync("/connect/userinfo?access_token=" + Uri.EscapeDataString(accessToken));
        using var headerRequest = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        headerRequest.Headers.Authorization = new("Bearer", accessToken);
        using var inHeader = await fixture.Server.Http.SendAsync(headerRequest);
        using var inForm = await fixture.Server.Http.PostAsync("/connect/userinfo", new FormUrlEncodedContent(new Dictionary<string, string> { ["access_token"] = accessToken }));

        Assert.Equal(HttpStatusCode.BadRequest, inQuery.StatusCode);
        Assert.DoesNotContain(who.Member.Email!, await inQuery.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, inHeader.StatusCode);
        Assert.Contains(who.Member.Email!, await inHeader.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, inForm.StatusCode);
    }

    [Theory]
    [InlineData("https://evil.example.net/cb", "S256")]
    [InlineData(OAuthFixture.NativeRedirect + "/x", "S256")]
    public async Task Authorize_WithAnUnregisteredRedirectUri_AnswersItselfAndNeverRedirects(string redirect, string method)
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);

        using var response = await browser.GetAsync(AuthorizeUrl(OAuthFixture.NativeClient, redirect, "openid", Pkce.Create(), method: method));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Theory]
    [InlineData("plain", "openid", "invalid_request")]
    [InlineData("none", "openid", "invalid_request")]
    [InlineData("S256", "openid phone", "invalid_scope")]
    public async Task Authorize_WithoutS256PkceOrWithADisallowedScope_RedirectsAnErrorAndNoCode(string method, string scope, string error)
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);

        using var response = await browser.GetAsync(AuthorizeUrl(OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, scope, Pkce.Create(), method: method));

        // Why either: OpenIddict checks PKCE before it has validated the redirect URI, so those errors are answered on
        // Pan's own page (400); a bad scope is found later and goes back to the app.
        if (response.StatusCode == HttpStatusCode.BadRequest && error == "invalid_request")
        {
            Assert.Null(response.Headers.Location);
            Assert.Contains(error, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            return;
        }

        var location = response.Headers.Location!;
        Assert.StartsWith(OAuthFixture.NativeRedirect + "?", location.ToString(), StringComparison.Ordinal);
        Assert.Equal(error, Param(location, "error"));
        Assert.Empty(Param(location, "code"));
    }

    [Fact]
    public async Task MyApps_ListsTheAppAndRemovingItRevokesItsTokens()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", pkce), remember: true);
        var (_, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        using var browser = Browser(fixture.Server, who);

        var html = await browser.GetStringAsync("/account/apps");
        using var removed = await browser.PostAsync("/account/apps", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["client_id"] = OAuthFixture.WebClient,
        }));
        var after = await browser.GetStringAsync("/account/apps");
        var (refreshStatus, refresh) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });

        Assert.Contains("Web App", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        Assert.DoesNotContain("Web App", after, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, refreshStatus);
        Assert.Equal("invalid_grant", refresh.GetProperty("error").GetString());
    }

    [Fact]
    public async Task MyApps_ListsARememberedAppOnce_AndRemovingItEndsTheGrantsOfEveryDevice_AndTheConsent()
    {
        // A remembered consent and two devices: the consent and each device's code's grant are separate authorizations.
        // The page shows the app once; removing it ends every device's tokens and the remembered consent.
        var who = await SignInAsync(fixture.Server);
        var deviceA = await WebTokensAsync(who, remember: true);
        var deviceB = await WebTokensAsync(who, remember: true);
        using var browser = Browser(fixture.Server, who);

        var html = await browser.GetStringAsync("/account/apps");
        using var removed = await browser.PostAsync("/account/apps", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["client_id"] = OAuthFixture.WebClient,
        }));

        Assert.Single(Regex.Matches(html, "<h2>Web App</h2>"));
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        foreach (var device in new[] { deviceA, deviceB })
        {
            Assert.False(await fixture.IsActiveAsync(device.GetProperty("access_token").GetString()!));
            var (status, json) = await fixture.RefreshAsync(device);
            Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
        }

        Assert.True(await ConsentRequiredAsync(who));
    }

    [Fact]
    public async Task MyApps_AFormTokenPairOfAnotherMember_PlantedInTheBrowser_RemovesNothing()
    {
        // Someone who can set a cookie for Pan's host (a sibling subdomain) plants the antiforgery cookie of their own
        // signed-in browser in the member's browser and posts their own form token: the pair matches, but it was issued
        // to another member, so the member's app stays.
        var member = await SignInAsync(fixture.Server);
        await ConsentAsync(fixture.Server, member, Request(member, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid", Pkce.Create()), remember: true);
        var attacker = await SignInAsync(fixture.Server);
        await ConsentAsync(fixture.Server, attacker, Request(attacker, OAuthFixture.NativeClient, OAuthFixture.NativeRedirect, "openid", Pkce.Create()), remember: true);
        var attackerJar = new CookieContainer();
        using var attackerBrowser = Browser(fixture.Server, attacker, attackerJar);
        var attackerForm = await attackerBrowser.GetStringAsync("/account/apps");
        var planted = attackerJar.GetCookies(new Uri(fixture.Server.HttpUri, "/account/apps")).Single(c => c.Name == "pan_af");

        var memberJar = new CookieContainer();
        using var browser = Browser(fixture.Server, member, memberJar);
        memberJar.Add(fixture.Server.HttpUri, new Cookie(planted.Name, planted.Value, planted.Path));
        using var forged = await browser.PostAsync("/account/apps", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(attackerForm, "af"), ["client_id"] = OAuthFixture.WebClient,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("Web App", await browser.GetStringAsync("/account/apps"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenEndpoint_ReusedCodeRevokesItsTokens_ExpiredCodeAndWrongRedirectAreInvalidGrant()
    {
        var who = await SignInAsync(fixture.Server);
        var first = Pkce.Create();
        var second = Pkce.Create();
        var reused = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", first));
        var late = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", second));
        Dictionary<string, string> Exchange(Uri redirect, Pkce pkce, string redirectUri = OAuthFixture.WebRedirect) => new()
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = redirectUri,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        };

        var wrongRedirect = await PostFormAsync(fixture.Server, "/connect/token", Exchange(reused, first, OAuthFixture.WebRedirect + "/other"));
        var (okStatus, tokens) = await PostFormAsync(fixture.Server, "/connect/token", Exchange(reused, first));
        var again = await PostFormAsync(fixture.Server, "/connect/token", Exchange(reused, first));
        var refresh = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(6));
        var expired = await PostFormAsync(fixture.Server, "/connect/token", Exchange(late, second));

        Assert.Equal(HttpStatusCode.OK, okStatus);
        foreach (var (status, json) in new[] { wrongRedirect, again, refresh, expired })
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task EndSession_SignsTheBrowserOutAndReturnsToTheRegisteredUri()
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);

        var hint = await IdTokenAsync(who);

        using var response = await browser.GetAsync("/connect/endsession?client_id=web-app&post_logout_redirect_uri=" + Uri.EscapeDataString("https://app.example.test/bye") + "&state=s1&id_token_hint=" + hint);
        using var unregistered = await browser.GetAsync("/connect/endsession?client_id=web-app&post_logout_redirect_uri=" + Uri.EscapeDataString("https://evil.example.net/") + "&id_token_hint=" + hint);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("https://app.example.test/bye", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("pan_member=;", StringComparison.Ordinal) || c.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase));
        Assert.Null(unregistered.Headers.Location is { } l && l.Host == "evil.example.net" ? l : null);
    }

    [Fact]
    public async Task EndSession_APostLogoutRedirectUriWithNeitherClientIdNorIdTokenHint_IsInvalidRequest()
    {
        // Without client_id or id_token_hint nothing names the client, and OpenIddict accepted a post_logout_redirect_uri
        // registered for any client: one app's logout link sent the browser to another app's page.
        var bye = Uri.EscapeDataString("https://app.example.test/bye");
        using var browser = Browser(fixture.Server, null);

        using var alone = await browser.GetAsync("/connect/endsession?post_logout_redirect_uri=" + bye + "&state=s1");
        using var withClient = await browser.GetAsync("/connect/endsession?client_id=web-app&post_logout_redirect_uri=" + bye + "&state=s1");
        using var without = await browser.GetAsync("/connect/endsession");

        Assert.Equal(HttpStatusCode.BadRequest, alone.StatusCode);
        Assert.Null(alone.Headers.Location);
        Assert.Contains("invalid_request", await alone.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.StartsWith("https://app.example.test/bye", withClient.Headers.Location?.ToString(), StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.BadRequest, without.StatusCode);
    }

    [Fact]
    public async Task EndSession_EndsTheSessionBehindTheCookie_SoACopyOfTheCookieNoLongerSignsIn()
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        using var copy = Browser(fixture.Server, who);
        var url = AuthorizeUrl(OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid", Pkce.Create());
        using (var before = await copy.GetAsync(url))
        {
            Assert.Equal("/account/consent", before.Headers.Location!.AbsolutePath);
        }

        using var signedOut = await browser.GetAsync("/connect/endsession?client_id=web-app&post_logout_redirect_uri=" + Uri.EscapeDataString("https://app.example.test/bye") + "&id_token_hint=" + await IdTokenAsync(who));
        using var after = await copy.GetAsync(url);

        // Logging out revokes the session on the server (SECURITY 12), as the sign-in pages' sign-out does: removing the
        // cookie from one browser alone would leave any copy of it signed in until it expires.
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal("/account/sign-in", after.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Authorize_WithPromptLoginOrMaxAgeExceeded_SignsTheMemberInAgain_AndTheIdTokenCarriesAuthTime()
    {
        var who = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var signedInAt = fixture.Server.Clock.GetUtcNow();
        var pkce = Pkce.Create();
        var url = AuthorizeUrl(OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", pkce);

        using var login = await browser.GetAsync(url + "&prompt=login");
        using var tooOld = await browser.GetAsync(url + "&max_age=0");
        using var silent = await browser.GetAsync(url + "&prompt=none&max_age=0");
        var returnUrl = QueryHelpers.ParseQuery(login.Headers.Location!.Query)["returnUrl"].ToString();
        var form = await browser.GetStringAsync(login.Headers.Location!.PathAndQuery);
        using var sameCookie = await browser.GetAsync(returnUrl);
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(1));
        using var again = Browser(fixture.Server, who);
        using var afterSignIn = await again.GetAsync(returnUrl);
        using var recent = await browser.GetAsync(url + "&max_age=3600");
        var (status, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(recent.Headers.Location!, "code"), ["redirect_uri"] = OAuthFixture.FirstPartyRedirect,
            ["client_id"] = OAuthFixture.FirstPartyClient, ["code_verifier"] = pkce.Verifier,
        });

        // prompt=login and an older sign-in than max_age allows send a signed-in browser to the sign-in form, not to the
        // app with a code (OIDC Core 3.1.2.1); the way back does not loop, and the same old cookie is still not enough.
        foreach (var response in new[] { login, tooOld, sameCookie })
        {
            Assert.Equal("/account/sign-in", response.Headers.Location!.AbsolutePath);
        }

        Assert.Contains("name=\"phone\"", form, StringComparison.Ordinal);
        Assert.DoesNotContain("prompt=login", returnUrl, StringComparison.Ordinal);
        Assert.Equal("login_required", Param(silent.Headers.Location!, "error"));
        Assert.StartsWith(OAuthFixture.FirstPartyRedirect + "?", afterSignIn.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(Param(afterSignIn.Headers.Location!, "code"));
        Assert.Equal(HttpStatusCode.OK, status);
        var idToken = tokens.GetProperty("id_token").GetString()!.Split('.')[1];
        var claims = JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(idToken)).RootElement;
        Assert.Equal(signedInAt.ToUnixTimeSeconds(), claims.GetProperty("auth_time").GetInt64());
    }

    [Fact]
    public async Task EndSession_WithoutTheMembersIdTokenHint_AsksFirst_SoAnotherSiteCannotSignTheMemberOut()
    {
        var who = await SignInAsync(fixture.Server);
        var other = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        using var copy = Browser(fixture.Server, who);
        var url = AuthorizeUrl(OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid", Pkce.Create());
        var parameters = new Dictionary<string, string>
        {
            ["client_id"] = OAuthFixture.WebClient, ["post_logout_redirect_uri"] = "https://app.example.test/bye", ["state"] = "s1",
        };
        var query = QueryHelpers.AddQueryString("/connect/endsession", parameters!);

        using var asked = await browser.GetAsync(query);
        var page = await asked.Content.ReadAsStringAsync();
        using var posted = await browser.PostAsync("/connect/endsession", new FormUrlEncodedContent(parameters));
        using var forged = await browser.PostAsync("/connect/endsession", new FormUrlEncodedContent(new Dictionary<string, string>(parameters) { ["pan_logout"] = "forged" }));
        using var othersHint = await browser.GetAsync(query + "&id_token_hint=" + await IdTokenAsync(other));
        using var stillSignedIn = await copy.GetAsync(url);
        using var confirmed = await browser.PostAsync("/connect/endsession", new FormUrlEncodedContent(
            HiddenInput().Matches(page).ToDictionary(m => m.Groups["name"].Value, m => WebUtility.HtmlDecode(m.Groups["value"].Value))));
        using var after = await copy.GetAsync(url);
        using var withoutCookie = Browser(fixture.Server, null);
        using var crossSite = await withoutCookie.PostAsync("/connect/endsession", new FormUrlEncodedContent(parameters));

        // Without an ID token of the signed-in member, the provider asks before it signs out (OIDC RP-Initiated Logout 2):
        // a link or form on any site could otherwise end the member's session. The question is a page of Pan's own
        // (no framing), and only its form, with a token bound to this session, signs out.
        foreach (var response in new[] { asked, posted, forged, othersHint })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Null(response.Headers.Location);
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        }

        Assert.Contains("form-action 'self' https://app.example.test", asked.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("/account/consent", stillSignedIn.Headers.Location!.AbsolutePath);
        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.StartsWith("https://app.example.test/bye", confirmed.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Equal("s1", Param(confirmed.Headers.Location!, "state"));
        Assert.Equal("/account/sign-in", after.Headers.Location!.AbsolutePath);

        // A request without the member cookie (a cross-site form post: SameSite=Lax keeps the cookie off it) has no one to
        // sign out, and must not clear the cookie either: browsers apply Set-Cookie on a top-level cross-site navigation.
        Assert.Equal(HttpStatusCode.Redirect, crossSite.StatusCode);
        Assert.False(crossSite.Headers.TryGetValues("Set-Cookie", out var cleared) && cleared.Any(c => c.StartsWith("pan_member=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Authorize_WithAnIdTokenHintOfAnotherMember_IssuesNoCodeForTheSignedInMember()
    {
        // An app renews its member's sign-in (prompt=none) with that member's ID token as the hint, while the browser is
        // now signed in to Pan as someone else (another member of the phone, or another person): OIDC Core 3.1.2.1 says
        // a positive answer is for the member the hint names only. A code for the browser's member would hand the app
        // another member's account under the session it believes is its member's.
        var who = await SignInAsync(fixture.Server);
        var other = await SignInAsync(fixture.Server);
        using var browser = Browser(fixture.Server, who);
        var othersHint = await FirstPartyIdTokenAsync(other);
        var ownHint = await FirstPartyIdTokenAsync(who);
        var url = AuthorizeUrl(OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", Pkce.Create());

        using var silent = await browser.GetAsync(url + "&prompt=none&id_token_hint=" + othersHint);
        using var interactive = await browser.GetAsync(url + "&id_token_hint=" + othersHint);
        using var own = await browser.GetAsync(url + "&prompt=none&id_token_hint=" + ownHint);
        var returnUrl = QueryHelpers.ParseQuery(interactive.Headers.Location!.Query)["returnUrl"].ToString();
        using var sameCookie = await browser.GetAsync(returnUrl);
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(1));
        using var signedInAgain = Browser(fixture.Server, who);
        using var afterSignIn = await signedInAgain.GetAsync(returnUrl);

        Assert.StartsWith(OAuthFixture.FirstPartyRedirect + "?", silent.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Equal("login_required", Param(silent.Headers.Location!, "error"));
        Assert.Empty(Param(silent.Headers.Location!, "code"));
        // Without prompt=none the member is asked to sign in (the form, even though a cookie is there); whoever then signs
        // in is the member "logged in by the request", so the way back carries no hint and does not loop.
        Assert.Equal("/account/sign-in", interactive.Headers.Location!.AbsolutePath);
        Assert.Contains("prompt=login", interactive.Headers.Location!.Query, StringComparison.Ordinal);
        Assert.DoesNotContain("id_token_hint", returnUrl, StringComparison.Ordinal);
        Assert.Equal("/account/sign-in", sameCookie.Headers.Location!.AbsolutePath);
        Assert.NotEmpty(Param(afterSignIn.Headers.Location!, "code"));
        Assert.NotEmpty(Param(own.Headers.Location!, "code"));
    }

    [Fact]
    public async Task TokenEndpoint_AConfidentialClientMustProveItsSecret_AndACodeServesOnlyItsClient()
    {
        var who = await SignInAsync(fixture.Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid", pkce));
        Dictionary<string, string> Exchange(string clientId, string? secret)
        {
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
                ["client_id"] = clientId, ["code_verifier"] = pkce.Verifier,
            };
            if (secret is not null)
            {
                form["client_secret"] = secret;
            }

            return form;
        }

        var withoutSecret = await PostFormAsync(fixture.Server, "/connect/token", Exchange(OAuthFixture.WebClient, null));
        var wrongSecret = await PostFormAsync(fixture.Server, "/connect/token", Exchange(OAuthFixture.WebClient, fixture.WebSecret[..^1] + (fixture.WebSecret[^1] == 'A' ? 'B' : 'A')));
        var otherClient = await PostFormAsync(fixture.Server, "/connect/token", Exchange(OAuthFixture.NativeClient, null));
        var (status, _) = await PostFormAsync(fixture.Server, "/connect/token", Exchange(OAuthFixture.WebClient, fixture.WebSecret));
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<OpenIddictEntityFrameworkCoreApplication>()
            .Where(a => a.ClientId == OAuthFixture.WebClient).Select(a => a.ClientSecret).SingleAsync();

        Assert.Equal("invalid_client", withoutSecret.Json.GetProperty("error").GetString());
        Assert.Equal("invalid_client", wrongSecret.Json.GetProperty("error").GetString());
        Assert.Equal("invalid_grant", otherClient.Json.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(string.IsNullOrEmpty(stored));
        Assert.DoesNotContain(fixture.WebSecret, stored!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenEndpoint_RefusesPasswordAndClientCredentialsGrants()
    {
        var (status, json) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = "x", ["password"] = "y", ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("unsupported_grant_type", json.GetProperty("error").GetString());
    }

    private static string AuthorizeUrl(string clientId, string redirect, string scope, Pkce pkce, string? lang = null, string method = "S256")
    {
        var query = new Dictionary<string, string?>
        {
            ["client_id"] = clientId, ["redirect_uri"] = redirect, ["response_type"] = "code", ["scope"] = scope, ["state"] = "xyz",
            ["nonce"] = "n1", ["lang"] = lang,
        };
        if (method != "none")
        {
            query["code_challenge"] = method == "plain" ? pkce.Verifier : pkce.Challenge;
            query["code_challenge_method"] = method;
        }

        return QueryHelpers.AddQueryString("/connect/authorize", query.Where(p => p.Value is not null)!);
    }

    /// <summary>An ID token of the web app for <paramref name="who"/> (the id_token_hint of a logout).</summary>
    private async Task<string> IdTokenAsync(SignedIn who)
    {
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid", pkce));
        var (_, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        return tokens.GetProperty("id_token").GetString()!;
    }

    /// <summary>An ID token of the first-party app (implicit consent, public) for <paramref name="who"/>.</summary>
    private async Task<string> FirstPartyIdTokenAsync(SignedIn who)
    {
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", pkce));
        var (_, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.FirstPartyRedirect,
            ["client_id"] = OAuthFixture.FirstPartyClient, ["code_verifier"] = pkce.Verifier,
        });
        return tokens.GetProperty("id_token").GetString()!;
    }

    private static string Hidden(string html, string name) =>
        WebUtility.HtmlDecode(HiddenInput().Matches(html).First(m => m.Groups["name"].Value == name).Groups["value"].Value);

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex HiddenInput();
}

public sealed class OAuthHttpBehaviour_Sqlite(SqliteOAuthFixture f) : OAuthHttpBehaviour<SqliteOAuthFixture>(f);

public sealed class OAuthHttpBehaviour_Postgres(PostgresOAuthFixture f) : OAuthHttpBehaviour<PostgresOAuthFixture>(f);
