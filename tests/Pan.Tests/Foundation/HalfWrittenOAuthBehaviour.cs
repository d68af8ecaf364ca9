using System.Net;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21 for an OAuth grant: the code exchange at /connect/token redeems the code and stores the new access and
/// refresh token entries. Its LAST write (the refresh token's entry) is made to fail on the real database
/// (<see cref="FailureTriggers"/>): the code must not be left redeemed, no token entry may be left, and once the
/// trigger is gone the same exchange succeeds.
/// </summary>
public abstract class HalfWrittenOAuthBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthCredentialFixture
{
    private readonly Mailboxes mail = new(fixture);

    private readonly OAuthWebApp app = new(fixture);

    [Fact]
    public async Task CodeExchange_WhenStoringTheRefreshTokenFails_LeavesTheCodeUnredeemed_AndTheSameExchangeThenSucceeds()
    {
        var member = await mail.RegisterAsync();
        var code = await app.CodeAsync(member.AccessToken, remember: true);
        var entries = await TokenEntriesAsync();

        // The last write of the exchange: the refresh token's entry (after the code's redemption and the access token's entry).
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "oauth_tokens", TriggeredWrite.Insert, "NEW.\"Type\" LIKE '%refresh_token'"))
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

    /// <summary>Every token entry with its status (the code's entry among them).</summary>
    private Task<List<string>> TokenEntriesAsync() =>
        mail.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreToken>().OrderBy(t => t.Id).Select(t => t.Id + ":" + t.Type + ":" + t.Status).ToListAsync());
}

public sealed class HalfWrittenOAuthBehaviour_Sqlite(SqliteOAuthCredentialFixture f) : HalfWrittenOAuthBehaviour<SqliteOAuthCredentialFixture>(f);

public sealed class HalfWrittenOAuthBehaviour_Postgres(PostgresOAuthCredentialFixture f) : HalfWrittenOAuthBehaviour<PostgresOAuthCredentialFixture>(f);
