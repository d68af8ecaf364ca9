using System.Net;
using System.Text.Json;
using Pan.Tests.Infrastructure;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>What ends a grant's tokens at the revocation endpoint: revoking its refresh token.</summary>
public abstract partial class OAuthHttpBehaviour<TFixture>
{
    [Fact]
    public async Task Revoke_ARefreshToken_EndsTheAccessTokensOfItsGrant_AndNoOtherGrant()
    {
        // RFC 7009 2.1: revoking a refresh token also invalidates the access tokens of the same grant (an app signing the
        // member out revokes its refresh token; the access tokens it got with it must not stay active at introspection).
        var who = await SignInAsync(fixture.Server);
        var first = await WebTokensAsync(who);
        var (refreshed, rotated) = await RefreshAsync(first);
        Assert.Equal(HttpStatusCode.OK, refreshed);
        var other = await WebTokensAsync(who);

        var (revoked, _) = await PostFormAsync(fixture.Server, "/connect/revoke", new Dictionary<string, string>
        {
            ["token"] = rotated.GetProperty("refresh_token").GetString()!, ["token_type_hint"] = "refresh_token",
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });

        Assert.Equal(HttpStatusCode.OK, revoked);
        Assert.False(await IsActiveAsync(first.GetProperty("access_token").GetString()!));
        Assert.False(await IsActiveAsync(rotated.GetProperty("access_token").GetString()!));
        var (status, json) = await RefreshAsync(rotated);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, json.GetProperty("error").GetString()));
        // Another grant of the same member and app (another code, no remembered consent) is not touched.
        Assert.True(await IsActiveAsync(other.GetProperty("access_token").GetString()!));
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(other)).Status);
    }

    /// <summary>The web app's tokens (access, refresh) for <paramref name="who"/>: a code of its own (consent not remembered) exchanged.</summary>
    private async Task<JsonElement> WebTokensAsync(SignedIn who)
    {
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid offline_access", pkce));
        var (status, tokens) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        return tokens;
    }

    private Task<(HttpStatusCode Status, JsonElement Json)> RefreshAsync(JsonElement tokens) =>
        PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });

    private async Task<bool> IsActiveAsync(string accessToken)
    {
        var (status, json) = await PostFormAsync(fixture.Server, "/connect/introspect", new Dictionary<string, string>
        {
            ["token"] = accessToken, ["token_type_hint"] = "access_token", ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        return json.GetProperty("active").GetBoolean();
    }
}
