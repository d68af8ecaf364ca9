using System.Net;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21 for the OAuth grants at /connect/token: the code exchange redeems the code and stores the new access and
/// refresh token entries; the refresh grant redeems the refresh token and stores new access, refresh and ID token
/// entries; a refresh token's revocation at /connect/revoke revokes it, the other tokens of its grant and the grant. A late write of each is made to fail on the real database (<see cref="FailureTriggers"/>): the code or
/// refresh token must not be left redeemed, no token entry may be left, and once the trigger is gone the same request
/// succeeds (and is not taken for a replay, which would revoke the grant).
/// </summary>
public abstract class HalfWrittenOAuthBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthCredentialFixture
{
    private readonly Mailboxes mail = new(fixture);

    private readonly OAuthWebApp app = new(fixture);

    [Fact]
    public async Task CodeExchange_WhenStoringTheIdTokenFails_LeavesTheCodeUnredeemed_AndTheSameExchangeThenSucceeds()
    {
        var member = await mail.RegisterAsync();
        var code = await app.CodeAsync(member.AccessToken, remember: true);
        var entries = await TokenEntriesAsync();

        // The last write of the exchange: the ID token's entry (after the code's redemption and the access and refresh
        // tokens' entries; found by logging every write of an exchange with triggers).
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "oauth_tokens", TriggeredWrite.Insert, "NEW.\"Type\" LIKE '%id_token'"))
        {
            var (status, _) = await app.ExchangeAsync(code);
            Assert.Equal(HttpStatusCode.InternalServerError, status);
        }

        Assert.Equal(entries, await TokenEntriesAsync());

        // The code was not spent: the same exchange now answers tokens, which work.
        var (okStatus, tokens) = await app.ExchangeAsync(code);
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.True(await app.IsActiveAsync(tokens.GetProperty("access_token").GetString()!));
        var (refreshed, _) = await app.RefreshAsync(tokens);
        Assert.Equal(HttpStatusCode.OK, refreshed);
    }

    [Fact]
    public async Task RefreshGrant_WhenStoringTheIdTokenFails_LeavesTheRefreshTokenUnredeemed_AndTheSameRefreshThenSucceeds()
    {
        var member = await mail.RegisterAsync();
        var tokens = await app.TokensAsync(member.AccessToken, remember: true);
        var refreshToken = tokens.GetProperty("refresh_token").GetString()!;
        var entries = await TokenEntriesAsync();

        // The last write of the refresh grant, found by logging every write of one with AFTER triggers: the old refresh
        // token's redemption, then the new access, refresh and ID tokens' entries, in that order.
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "oauth_tokens", TriggeredWrite.Insert, "NEW.\"Type\" LIKE '%id_token'"))
        {
            var (status, _) = await app.RefreshAsync(tokens);
            Assert.Equal(HttpStatusCode.InternalServerError, status);
        }

        // Nothing stayed: the old refresh token is not redeemed and no new entry (access, refresh or ID token) is left.
        Assert.Equal(entries, await TokenEntriesAsync());
        Assert.True(await app.IsActiveAsync(refreshToken, "refresh_token"));
        Assert.True(await app.IsActiveAsync(tokens.GetProperty("access_token").GetString()!));

        // The same refresh now answers new tokens, which work: it was not taken for a replay (no leeway in tests, so a
        // replay would have been invalid_grant and revoked the grant's tokens).
        var (okStatus, renewed) = await app.RefreshAsync(tokens);
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.True(await app.IsActiveAsync(renewed.GetProperty("access_token").GetString()!));
        Assert.True(await app.IsActiveAsync(renewed.GetProperty("refresh_token").GetString()!, "refresh_token"));
        // Why the old refresh token is not introspected here: OpenIddict takes a redeemed refresh token presented at
        // introspection for a replay too, and revokes the grant.
        var (next, _) = await app.RefreshAsync(renewed);
        Assert.Equal(HttpStatusCode.OK, next);
    }

    [Fact]
    public async Task Revoke_WhenRevokingTheGrantFails_RevokesNothing_AndTheSameRevocationThenEndsTheGrant()
    {
        var member = await mail.RegisterAsync();
        var tokens = await app.TokensAsync(member.AccessToken, remember: false);
        var refreshToken = tokens.GetProperty("refresh_token").GetString()!;
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        var entries = await TokenEntriesAsync();

        // The last write of a refresh token's revocation: its grant's own authorization, after the token's entry and the
        // entries of the grant's other tokens.
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "oauth_authorizations", TriggeredWrite.Update))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, await app.RevokeAsync(refreshToken));
        }

        // Nothing stayed: the refresh token is not revoked (a retry would otherwise find it revoked and end nothing more).
        Assert.Equal(entries, await TokenEntriesAsync());
        Assert.True(await app.IsActiveAsync(accessToken));

        Assert.Equal(HttpStatusCode.OK, await app.RevokeAsync(refreshToken));
        Assert.False(await app.IsActiveAsync(accessToken));
        OAuthWebApp.ExpectInvalidGrant(await app.RefreshAsync(tokens));
    }

    /// <summary>Every token entry with its status (the code's entry among them).</summary>
    private Task<List<string>> TokenEntriesAsync() =>
        mail.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken>().OrderBy(t => t.Id).Select(t => t.Id + ":" + t.Type + ":" + t.Status).ToListAsync());
}

public sealed class HalfWrittenOAuthBehaviour_Sqlite(SqliteOAuthCredentialFixture f) : HalfWrittenOAuthBehaviour<SqliteOAuthCredentialFixture>(f);

public sealed class HalfWrittenOAuthBehaviour_Postgres(PostgresOAuthCredentialFixture f) : HalfWrittenOAuthBehaviour<PostgresOAuthCredentialFixture>(f);
