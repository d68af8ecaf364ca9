using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Tests.Infrastructure;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// With <c>Pan:OAuth:RefreshTokenReuseLeewaySeconds</c> set, a used refresh token presented again within the leeway (an
/// app's parallel refreshes) is answered with tokens and ends nothing; after the leeway it is a reuse, which ends the
/// whole family (SECURITY 14).
/// </summary>
public abstract class OAuthRefreshLeewayBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : LeewayOAuthFixture
{
    [Fact]
    public async Task AUsedRefreshToken_PresentedAgainWithinTheLeeway_IsAnsweredWithTokens_AndTheFamilyStays()
    {
        var who = await SignInAsync(fixture.Server);
        var first = await WebTokensAsync(who);
        var (refreshed, rotated) = await fixture.RefreshAsync(first);
        Assert.Equal(HttpStatusCode.OK, refreshed);

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(LeewayOAuthFixture.LeewaySeconds - 5));
        var (again, second) = await fixture.RefreshAsync(first);

        Assert.Equal(HttpStatusCode.OK, again);
        Assert.True(await fixture.IsActiveAsync(second.GetProperty("access_token").GetString()!));
        Assert.True(await fixture.IsActiveAsync(rotated.GetProperty("access_token").GetString()!), "the first refresh's access token was revoked");
        Assert.Equal(HttpStatusCode.OK, (await fixture.RefreshAsync(rotated)).Status);
        Assert.Equal(HttpStatusCode.OK, (await fixture.RefreshAsync(second)).Status);
    }

    [Fact]
    public async Task AUsedRefreshToken_PresentedAgainAfterTheLeeway_IsAReuse_ThatEndsTheFamily()
    {
        var who = await SignInAsync(fixture.Server);
        var first = await WebTokensAsync(who);
        var (refreshed, rotated) = await fixture.RefreshAsync(first);
        Assert.Equal(HttpStatusCode.OK, refreshed);

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(LeewayOAuthFixture.LeewaySeconds + 1));
        var (again, json) = await fixture.RefreshAsync(first);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (again, json.GetProperty("error").GetString()));
        Assert.False(await fixture.IsActiveAsync(rotated.GetProperty("access_token").GetString()!), "the family's access token is still active");
        var (status, refusal) = await fixture.RefreshAsync(rotated);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (status, refusal.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task TwoRefreshesOfOneTokenAtOnce_WithinTheLeeway_AreBothAnswered_AndTheFamilyStays()
    {
        // On PostgreSQL both read the token as valid, then wait for its row; the second's redemption then fails on the
        // first's. SQLite runs grant requests one at a time: the second finds the token redeemed.
        var who = await SignInAsync(fixture.Server);
        var tokens = await WebTokensAsync(who);
        Task<(HttpStatusCode Status, JsonElement Json)> one, two;
        if (fixture.Database.Provider == "postgres")
        {
            await using var held = await DatabaseLock.HoldRowsAsync(fixture.Database, "oauth_tokens", $"\"Id\" = '{await fixture.RefreshTokenEntryAsync(who)}'");
            one = Task.Run(() => fixture.RefreshAsync(tokens));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, one), "the first refresh did not wait for the refresh token's row");
            two = Task.Run(() => fixture.RefreshAsync(tokens));
            Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, two), "the second refresh did not wait for the refresh token's row");
            await held.CommitAsync();
        }
        else
        {
            one = Task.FromResult(await fixture.RefreshAsync(tokens));
            two = Task.FromResult(await fixture.RefreshAsync(tokens));
        }

        foreach (var (status, json) in await Task.WhenAll(one, two))
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(await fixture.IsActiveAsync(json.GetProperty("access_token").GetString()!));
            Assert.Equal(HttpStatusCode.OK, (await fixture.RefreshAsync(json)).Status);
        }
    }

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


}

/// <summary>The OAuth server of <see cref="OAuthFixture"/> with a refresh-token reuse leeway of <see cref="LeewaySeconds"/>.</summary>
public abstract class LeewayOAuthFixture : OAuthFixture
{
    public const int LeewaySeconds = 30;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Pan:OAuth:RefreshTokenReuseLeewaySeconds"] = LeewaySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

public sealed class SqliteLeewayOAuthFixture : LeewayOAuthFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresLeewayOAuthFixture : LeewayOAuthFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class OAuthRefreshLeewayBehaviour_Sqlite(SqliteLeewayOAuthFixture f) : OAuthRefreshLeewayBehaviour<SqliteLeewayOAuthFixture>(f);

public sealed class OAuthRefreshLeewayBehaviour_Postgres(PostgresLeewayOAuthFixture f) : OAuthRefreshLeewayBehaviour<PostgresLeewayOAuthFixture>(f);
