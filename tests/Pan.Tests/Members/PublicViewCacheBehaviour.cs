using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Pan.General.Member;
using Pan.Server.Session;
using Pan.Tests.Infrastructure;
using Pan.Tests.Tokens;

namespace Pan.Tests.Members;

/// <summary>
/// ReadObject's public-view copies: a member read again is answered from memory, and a change to the member made on
/// any node is shown by the next read on every node.
/// </summary>
public abstract class PublicViewCacheBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture, IIsolatedServers
{
    private PanServer Server => fixture.Server;

    [Fact]
    public async Task AMemberReadAgain_IsKept_AndShownAsReadFromTheDatabase()
    {
        var cache = await LiveCacheAsync(Server);
        var member = await TestMembers.CreateAsync(Server);
        var fromDatabase = await ReadAsync(Server, member.Uid);
        await ReadAsync(Server, member.Uid);
        Assert.NotNull(cache.Get(member.Uid));

        Assert.Equal(fromDatabase, await ReadAsync(Server, member.Uid));
        var byUuid = Assert.Single((await Client(Server).ReadObjectAsync(new ReadObjectRequest { Uuids = { member.ObjectId.ToString("D") } })).Objects);
        Assert.Equal(byUuid, await ReadAsync(Server, member.Uid));
    }

    [Fact]
    public async Task ProfileChange_OnAnotherNode_IsShownHere_AtTheNextRead()
    {
        await using var second = await fixture.StartNodeAsync();
        var (cache, member) = await CachedMemberAsync(second);

        var renamed = TestMembers.UniqueName("r");
        await TestMembers.UpdateAsync(second, member.Uid, m => m.DisplayName = renamed);

        await Eventually.HoldsAsync(() => cache.Get(member.Uid) is null);
        Assert.Equal(renamed, (await ReadAsync(Server, member.Uid)).DisplayName);
    }

    [Fact]
    public async Task MemberDeleted_OnAnotherNode_IsNotFoundHere()
    {
        await using var second = await fixture.StartNodeAsync();
        var (cache, member) = await CachedMemberAsync(second);

        await TestMembers.UpdateAsync(second, member.Uid, m => m.Deleted = second.Clock.GetUtcNow());

        await Eventually.HoldsAsync(() => cache.Get(member.Uid) is null);
        await Errors.ExpectAsync(() => Client(Server).ReadObjectAsync(new ReadObjectRequest { Uids = { member.Uid } }).ResponseAsync,
            StatusCode.NotFound, "ErrReadObject.GENERAL_NOT_FOUND_ANY");
    }

    [Fact]
    public async Task ProfileChange_OnThisNode_IsShown_ByTheVeryNextRead()
    {
        await LiveCacheAsync(Server);
        var member = await TestMembers.CreateAsync(Server);
        await ReadAsync(Server, member.Uid);
        await ReadAsync(Server, member.Uid);

        var renamed = TestMembers.UniqueName("r");
        await TestMembers.UpdateAsync(Server, member.Uid, m => m.DisplayName = renamed);

        Assert.Equal(renamed, (await ReadAsync(Server, member.Uid)).DisplayName);
    }

    [Fact]
    public async Task ABatchMixingKeptReadDeletedAndUnknownUids_AnswersEachLiveMemberOnce_InRequestOrder()
    {
        var cache = await LiveCacheAsync(Server);
        var kept = await TestMembers.CreateAsync(Server);
        await ReadAsync(Server, kept.Uid);
        await ReadAsync(Server, kept.Uid);
        Assert.NotNull(cache.Get(kept.Uid));
        var keptThenDeleted = await TestMembers.CreateAsync(Server);
        await ReadAsync(Server, keptThenDeleted.Uid);
        await ReadAsync(Server, keptThenDeleted.Uid);
        await TestMembers.UpdateAsync(Server, keptThenDeleted.Uid, m => m.Deleted = Server.Clock.GetUtcNow());
        var deleted = await TestMembers.CreateAsync(Server);
        await TestMembers.UpdateAsync(Server, deleted.Uid, m => m.Deleted = Server.Clock.GetUtcNow());
        var fresh = await TestMembers.CreateAsync(Server);
        var byUuid = (await Client(Server).ReadObjectAsync(new ReadObjectRequest { Uuids = { fresh.ObjectId.ToString("D"), kept.ObjectId.ToString("D") } })).Objects;

        var objects = (await Client(Server).ReadObjectAsync(new ReadObjectRequest
        {
            Uids = { long.MaxValue, fresh.Uid, deleted.Uid, kept.Uid, keptThenDeleted.Uid, fresh.Uid },
        })).Objects;

        Assert.Equal([fresh.Uid, kept.Uid], objects.Select(o => o.Uid));
        Assert.Equal(byUuid, objects);
        Assert.All(objects, MemberRpcBehaviour<TFixture>.AssertPublicOnly);
        Assert.Null(cache.Get(keptThenDeleted.Uid));
    }

    /// <summary>A new member whose public view this node keeps, with both nodes' feeds live.</summary>
    private async Task<(PublicViewCache Cache, Pan.Data.Members.Member Member)> CachedMemberAsync(PanServer second)
    {
        var cache = await LiveCacheAsync(Server);
        await LiveCacheAsync(second);
        var member = await TestMembers.CreateAsync(Server);
        await ReadAsync(Server, member.Uid);
        await ReadAsync(Server, member.Uid);
        Assert.NotNull(cache.Get(member.Uid));
        return (cache, member);
    }

    private static MemberServiceV2.MemberServiceV2Client Client(PanServer server) => new(server.Grpc);

    private static async Task<Pan.Atom.Member.Object> ReadAsync(PanServer server, long uid) =>
        Assert.Single((await Client(server).ReadObjectAsync(new ReadObjectRequest { Uids = { uid } })).Objects);

    /// <summary>The node's cache once it may be used (on PostgreSQL the listener connects after start-up).</summary>
    private static async Task<PublicViewCache> LiveCacheAsync(PanServer server)
    {
        var cache = server.Services.GetRequiredService<PublicViewCache>();
        await Eventually.HoldsAsync(() => cache.Enabled);
        return cache;
    }

}

public sealed class PublicViewCacheBehaviour_Sqlite(TokensSqliteFixture f) : PublicViewCacheBehaviour<TokensSqliteFixture>(f);

public sealed class PublicViewCacheBehaviour_Postgres(TokensPostgresFixture f) : PublicViewCacheBehaviour<TokensPostgresFixture>(f);
