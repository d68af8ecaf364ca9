using System.Text.Json;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// An independent, widely used OIDC library — openid-client (npm), run with Node — performs discovery, the
/// authorization code flow with PKCE S256, the token request with ID token validation, userinfo, refresh (rotation),
/// introspection and revocation against the running server (tests/oidc-client/flow.mjs).
/// </summary>
public abstract class OidcClientBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthFixture
{
    [Fact]
    public async Task OpenIdClient_RunsTheWholeFlowAgainstPan()
    {
        await NodeProject.EnsureInstalledAsync();
        var who = await SignInAsync(fixture.Server);

        var (exit, output, error) = await NodeProject.RunAsync("node", TimeSpan.FromMinutes(2),
            "flow.mjs", fixture.Server.HttpUri.ToString(), OAuthFixture.WebClient, fixture.WebSecret, OAuthFixture.WebRedirect, who.AccessToken);

        Assert.True(exit == 0, $"openid-client failed: {error}{output}");
        var result = JsonDocument.Parse(output).RootElement;
        string[] Values(string name) => [.. result.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];
        Assert.Equal(fixture.Server.HttpUri.ToString(), result.GetProperty("issuer").GetString());
        Assert.Equal(["authorization_code", "refresh_token"], Values("grantTypes").Order());
        Assert.Equal(["S256"], Values("codeChallengeMethods"));
        Assert.True(result.GetProperty("consentRequired").GetBoolean());
        Assert.Equal(who.Member.ObjectId.ToString("D"), result.GetProperty("subject").GetString());
        Assert.Equal(who.Member.DisplayName, result.GetProperty("idTokenName").GetString());
        Assert.Equal(who.Member.Email, result.GetProperty("userinfo").GetProperty("email").GetString());
        Assert.True(result.GetProperty("refreshRotated").GetBoolean());
        Assert.True(result.GetProperty("introspectedActive").GetBoolean());
        Assert.Equal(who.Member.ObjectId.ToString("D"), result.GetProperty("introspectedSubject").GetString());
        Assert.Equal("invalid_grant", result.GetProperty("oldRefreshRefused").GetString());
        Assert.False(result.GetProperty("activeAfterRevocation").GetBoolean());
    }
}

public sealed class OidcClientBehaviour_Sqlite(SqliteOAuthFixture f) : OidcClientBehaviour<SqliteOAuthFixture>(f);

public sealed class OidcClientBehaviour_Postgres(PostgresOAuthFixture f) : OidcClientBehaviour<PostgresOAuthFixture>(f);
