using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pan.Data;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Server.Data.Changes;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Tokens;

/// <summary>
/// The access-token cache: checked tokens are answered from memory, and every change to a token's member, account or
/// session — made by this node, another node, or plain SQL — is seen by the next check.
/// </summary>
public abstract class TokenCacheBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture, IIsolatedServers
{
    private PanServer Server => fixture.Server;

    private bool IsPostgres => fixture.Database.Provider == "postgres";

    [Fact]
    public async Task ACheckedToken_IsAnsweredFromMemory_TheNextTime()
    {
        var cache = await LiveCacheAsync(Server);
        var owner = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, owner);
        await ValidateAsync(Server, access);

        var hits = cache.Hits;
        var info = await ValidateAsync(Server, access);

        Assert.Equal(owner.Uid, info.Uid);
        Assert.True(cache.Hits > hits, "the second check should have been a cache hit");
    }

    [Fact]
    public async Task ProfileChange_OnAnotherNode_IsSeenByMe_OnThisNode()
    {
        await using var second = await fixture.StartNodeAsync();
        await LiveCacheAsync(Server);
        await LiveCacheAsync(second);
        var owner = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, owner);
        Assert.Equal(owner.DisplayName, (await MeAsync(Server, access)).DisplayName);

        var renamed = TestMembers.UniqueName("r");
        await TestMembers.UpdateAsync(second, owner.Uid, m => m.DisplayName = renamed);

        Assert.Equal(renamed, (await MeAsync(Server, access)).DisplayName);
    }

    [Fact]
    public async Task MemberAdded_UnderThePhone_OnAnotherNode_IsCountedByMe_OnThisNode()
    {
        await using var second = await fixture.StartNodeAsync();
        await LiveCacheAsync(Server);
        await LiveCacheAsync(second);
        var owner = await TestMembers.CreateAsync(Server);
        for (var i = 1; i < 4; i++)
        {
            await TestMembers.AddToPhoneAsync(Server, owner);
        }

        var access = await TestMembers.AccessTokenAsync(Server, owner);
        Assert.True((await MeAsync(Server, access)).CanNewChild);
        Assert.True((await MeAsync(Server, access)).CanNewChild);

        await TestMembers.AddToPhoneAsync(second, owner);

        Assert.False((await MeAsync(Server, access)).CanNewChild);
    }

    [Fact]
    public async Task MemberDeleted_OnAnotherNode_IsRejectedHere()
    {
        await using var second = await fixture.StartNodeAsync();
        await LiveCacheAsync(Server);
        await LiveCacheAsync(second);
        var owner = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, owner);
        await ValidateAsync(Server, access);

        await TestMembers.UpdateAsync(second, owner.Uid, m => m.Deleted = second.Clock.GetUtcNow());

        await ExpectInvalidAsync(Server, access);
    }

    [Fact]
    public async Task Logout_OnAnotherNode_AnswersOnlyOnceASlowNodeHasHeardIt()
    {
        await using var second = await fixture.StartNodeAsync();
        await LiveCacheAsync(Server);
        await LiveCacheAsync(second);
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        var access = await TestMembers.AccessTokenAsync(Server, auth, owner);
        await CachedAsync(Server, access);

        await LogoutWhileSlowAsync(revoking: second, slow: Server, access);
    }

    [Fact]
    public async Task Logout_OnAnOlderNode_WaitsForANodeThatJustJoined()
    {
        // The older node last counted the listeners before this one joined; the newcomer's greeting must count.
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        await using var second = await fixture.StartNodeAsync();
        await LiveCacheAsync(Server);
        await LiveCacheAsync(second);
        var access = await TestMembers.AccessTokenAsync(second, auth, owner);
        await CachedAsync(second, access);

        await LogoutWhileSlowAsync(revoking: Server, slow: second, access);
    }

    /// <summary>Checks <paramref name="access"/> on <paramref name="server"/> until a check is answered from its cache.</summary>
    private static async Task CachedAsync(PanServer server, string access)
    {
        var cache = server.Services.GetRequiredService<AccessTokenCache>();
        await Eventually.HoldsAsync(async () =>
        {
            var hits = cache.Hits;
            await ValidateAsync(server, access);
            return cache.Hits > hits;
        });
    }

    /// <summary>
    /// Logs <paramref name="access"/> out on <paramref name="revoking"/> while <paramref name="slow"/> handles every change
    /// it hears 150 ms late (as a node under load might), then expects <paramref name="slow"/> to refuse it at once.
    /// </summary>
    private static async Task LogoutWhileSlowAsync(PanServer revoking, PanServer slow, string access)
    {
        var feed = slow.Services.GetRequiredService<DataChangeFeed>();
        feed.BeforeHandlingHeard = () => Thread.Sleep(150);
        try
        {
            await new MemberServiceV2.MemberServiceV2Client(revoking.Grpc).LogoutAsync(new LogoutRequest { PanAccessToken = access });

            await ExpectInvalidAsync(slow, access);
        }
        finally
        {
            feed.BeforeHandlingHeard = null;
        }
    }

    [Fact]
    public async Task SessionRevoked_ByPlainSqlOutsidePan_IsRejected_OnPostgres()
    {
        if (!IsPostgres)
        {
            // Why: a SQLite database belongs to one Pan process; writes from outside it are not watched (README).
            return;
        }

        await LiveCacheAsync(Server);
        var owner = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, owner);
        await ValidateAsync(Server, access);
        var sessionId = await TestMembers.WithDbAsync(Server, db => db.Set<StoredAccessToken>().Where(t => t.Uid == owner.Uid).Select(t => t.SessionId).SingleAsync());

        await using (var connection = new NpgsqlConnection(fixture.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var revoke = new NpgsqlCommand("UPDATE auth_sessions SET revoked = 1 WHERE id = @id", connection);
            revoke.Parameters.AddWithValue("id", sessionId);
            Assert.Equal(1, await revoke.ExecuteNonQueryAsync());
        }

        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                await ValidateAsync(Server, access);
                return false;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
            {
                return true;
            }
        });
    }

    [Fact]
    public async Task ListenerConnectionKilled_CacheGoesDark_DropsItsCopies_AndComesBack_OnPostgres()
    {
        if (!IsPostgres)
        {
            return;
        }

        var cache = await LiveCacheAsync(Server);
        var owner = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, owner);
        await ValidateAsync(Server, access);
        Assert.True(cache.Count > 0);
        var feed = Server.Services.GetRequiredService<DataChangeFeed>();
        var lostAndBack = new TaskCompletionSource<(bool Lost, bool Back)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lost = false;
        feed.LiveChanged += live =>
        {
            if (!live)
            {
                lost = true;
            }
            else if (lost)
            {
                lostAndBack.TrySetResult((true, true));
            }
        };

        var database = new NpgsqlConnectionStringBuilder(fixture.Database.ConnectionString).Database;
        await using (var connection = new NpgsqlConnection(fixture.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var kill = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @app AND datname = @db", connection);
            kill.Parameters.AddWithValue("app", PostgresChangeListener.ApplicationName);
            kill.Parameters.AddWithValue("db", database!);
            Assert.True((long)(await kill.ExecuteScalarAsync())! >= 1);
        }

        Assert.Equal((true, true), await lostAndBack.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(cache.Enabled);
        var misses = cache.Misses;
        Assert.Equal(owner.Uid, (await ValidateAsync(Server, access)).Uid);
        Assert.True(cache.Misses > misses, "copies made before the outage must have been dropped");
    }

    [Fact]
    public async Task WithoutTheChangeTriggers_TheCacheStaysOff_OnPostgres()
    {
        if (!IsPostgres)
        {
            return;
        }

        await using var isolated = await fixture.StartIsolatedAsync();
        await using (var connection = new NpgsqlConnection(isolated.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand("DROP TRIGGER pan_changes ON members", connection);
            await drop.ExecuteNonQueryAsync();
        }

        await using var node = await isolated.StartNodeAsync();
        var cache = node.Services.GetRequiredService<AccessTokenCache>();
        var owner = await TestMembers.CreateAsync(node);
        var access = await TestMembers.AccessTokenAsync(node, owner);
        await Task.Delay(TimeSpan.FromSeconds(2));

        await ValidateAsync(node, access);
        await ValidateAsync(node, access);

        Assert.False(cache.Enabled);
        Assert.Equal(0, cache.Hits);
    }

    /// <summary>The node's cache once it may be used (on PostgreSQL the listener connects after start-up).</summary>
    private static async Task<AccessTokenCache> LiveCacheAsync(PanServer server)
    {
        var cache = server.Services.GetRequiredService<AccessTokenCache>();
        await Eventually.HoldsAsync(() => cache.Enabled);
        return cache;
    }


    private static async Task<Pan.Atom.Member.TokenInfo> ValidateAsync(PanServer server, string access) =>
        (await new MemberServiceV2.MemberServiceV2Client(server.Grpc).ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info;

    private static async Task<Pan.Atom.Member.Object> MeAsync(PanServer server, string access) =>
        (await new MemberServiceV2.MemberServiceV2Client(server.Grpc).MeAsync(new MeRequest { AccessToken = access })).User;

    private static Task<RpcException> ExpectInvalidAsync(PanServer server, string access) =>
        Errors.ExpectAsync(() => new MemberServiceV2.MemberServiceV2Client(server.Grpc).ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
}

public sealed class TokenCacheBehaviour_Sqlite(TokensSqliteFixture f) : TokenCacheBehaviour<TokensSqliteFixture>(f);

public sealed class TokenCacheBehaviour_Postgres(TokensPostgresFixture f) : TokenCacheBehaviour<TokensPostgresFixture>(f);
