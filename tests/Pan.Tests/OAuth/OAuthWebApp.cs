using System.Net;
using System.Text.Json;
using Pan.Oauth;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// The OAuth fixture's web app as the credential-change suites drive it: the gRPC consent flow with PKCE, the code
/// exchange, the refresh grant, introspection and userinfo, over the provider's HTTP endpoints.
/// </summary>
public sealed class OAuthWebApp(OAuthCredentialFixture fixture)
{
    private const string Scope = "openid offline_access";

    public static DoRequest Do(string panAccessToken, Pkce pkce) => new()
    {
        PanAccessToken = panAccessToken,
        ClientId = OAuthFixture.WebClient,
        RedirectUri = OAuthFixture.WebRedirect,
        ResponseType = "code",
        Scope = Scope,
        State = "st-" + Guid.NewGuid().ToString("N"),
        Nonce = "n-" + Guid.NewGuid().ToString("N"),
        CodeChallenge = pkce.Challenge,
        CodeChallengeMethod = "S256",
    };

    /// <summary>Runs the consent flow over gRPC (approving when asked) and returns the client redirect and the PKCE pair.</summary>
    public async Task<(Uri Redirect, Pkce Pkce)> CodeAsync(string panAccessToken, bool remember = false)
    {
        var pkce = Pkce.Create();
        var consent = new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc);
        var started = await consent.DoAsync(Do(panAccessToken, pkce));
        if (!started.ConsentRequired)
        {
            return (new Uri(started.RedirectUri), pkce);
        }

        var approved = await consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = panAccessToken, Remember = remember });
        return (new Uri(approved.RedirectUri), pkce);
    }

    /// <summary>The web app's tokens (access, refresh, id) for the member, through the code flow with PKCE.</summary>
    public async Task<JsonElement> TokensAsync(string panAccessToken, bool remember)
    {
        var (status, tokens) = await ExchangeAsync(await CodeAsync(panAccessToken, remember));
        Assert.Equal(HttpStatusCode.OK, status);
        return tokens;
    }

    public Task<(HttpStatusCode Status, JsonElement Json)> ExchangeAsync((Uri Redirect, Pkce Pkce) code) =>
        PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(code.Redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = code.Pkce.Verifier,
        });

    public Task<(HttpStatusCode Status, JsonElement Json)> RefreshAsync(JsonElement tokens) =>
        PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });

    /// <summary>The status /connect/revoke answers for <paramref name="token"/> (a refresh token unless hinted otherwise).</summary>
    public async Task<HttpStatusCode> RevokeAsync(string token, string hint = "refresh_token")
    {
        var (status, _) = await PostFormAsync(fixture.Server, "/connect/revoke", new Dictionary<string, string>
        {
            ["token"] = token, ["token_type_hint"] = hint, ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });
        return status;
    }

    /// <summary>Introspection's "active" for <paramref name="token"/> (an access token or, with the hint, a refresh token).</summary>
    public async Task<bool> IsActiveAsync(string token, string hint = "access_token")
    {
        var (status, json) = await PostFormAsync(fixture.Server, "/connect/introspect", new Dictionary<string, string>
        {
            ["token"] = token, ["token_type_hint"] = hint, ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        return json.GetProperty("active").GetBoolean();
    }

    /// <summary>The status userinfo answers to <paramref name="accessToken"/>.</summary>
    public async Task<HttpStatusCode> UserInfoStatusAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new("Bearer", accessToken);
        using var response = await fixture.Server.Http.SendAsync(request);
        return response.StatusCode;
    }

    public static void ExpectInvalidGrant((HttpStatusCode Status, JsonElement Json) answer)
    {
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("invalid_grant", answer.Json.GetProperty("error").GetString());
    }
}
