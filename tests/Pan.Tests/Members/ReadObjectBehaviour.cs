using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Members;

/// <summary>ReadObject and UniversalReadObject: public reads of live members, no token.</summary>
public abstract class ReadObjectBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Grpc => new(Server.Grpc);

    [Fact]
    public async Task ReadObject_ByUidsAndUuids_ReturnsThePublicView_InRequestOrder_EachOnce()
    {
        var a = await CreatePrivateMemberAsync();
        var b = await CreatePrivateMemberAsync();
        var c = await CreatePrivateMemberAsync();

        var objects = (await Grpc.ReadObjectAsync(new ReadObjectRequest
        {
            Uids = { c.Uid, a.Uid },
            Uuids = { b.ObjectId.ToString("D"), a.ObjectId.ToString().ToUpperInvariant() },
        })).Objects;

        Assert.Equal([c.Uid, a.Uid, b.Uid], objects.Select(o => o.Uid));
        Assert.All(objects, MemberRpcBehaviour<TFixture>.AssertPublicOnly);
        var first = objects[0];
        Assert.Equal((c.ObjectId.ToString("D"), c.DisplayName, c.HashUid, c.Username), (first.ObjectId, first.DisplayName, first.HashUid, first.Username));
        Assert.True(first.IsOwner);
        Assert.True(first.Activate);
    }

    [Fact]
    public async Task ReadObject_SkipsDeletedMembers_AndNothingFoundIsNotFoundAny()
    {
        var live = await TestMembers.CreateAsync(Server);
        var deleted = await TestMembers.CreateAsync(Server);
        await TestMembers.UpdateAsync(Server, deleted.Uid, m => m.Deleted = Server.Clock.GetUtcNow());

        var objects = (await Grpc.ReadObjectAsync(new ReadObjectRequest { Uids = { deleted.Uid, live.Uid } })).Objects;
        Assert.Equal([live.Uid], objects.Select(o => o.Uid));

        var ex = await Errors.ExpectAsync(
            () => Grpc.ReadObjectAsync(new ReadObjectRequest { Uids = { deleted.Uid, long.MaxValue }, Uuids = { Guid.NewGuid().ToString() } }).ResponseAsync,
            StatusCode.NotFound, "ErrReadObject.GENERAL_NOT_FOUND_ANY");
        Assert.Equal("1003", ex.Info().Metadata["code"]);
    }

    [Fact]
    public async Task ReadObject_ByUidsAlone_ShowsTheSameViewAsByUuid_ForEveryPublicField()
    {
        // Uids alone go through the public-column reader; uuids through the full entity query. Both views must agree
        // on every field, set or empty.
        var full = await TestMembers.CreateAsync(Server, m =>
        {
            m.Username = TestMembers.UniqueName("user");
            m.AvatarKey = "https://cdn.example.com/" + TestMembers.UniqueName("a") + ".png";
            m.Gender = 2;
            m.IsOwner = false;
            m.VipExpireDate = DateTimeOffset.FromUnixTimeMilliseconds(1_900_000_000_123);
            m.ActivateDate = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_456);
            m.MigrationStatus = 3;
        });
        var sparse = await TestMembers.CreateAsync(Server, m =>
        {
            m.Username = null;
            m.DisplayName = null;
            m.DisplayNameKey = null;
            m.HashUid = null;
            m.AvatarKey = null;
            m.VipExpireDate = null;
            m.ActivateDate = null;
        });

        foreach (var member in new[] { full, sparse })
        {
            var byUid = Assert.Single((await Grpc.ReadObjectAsync(new ReadObjectRequest { Uids = { member.Uid } })).Objects);
            var byUuid = Assert.Single((await Grpc.ReadObjectAsync(new ReadObjectRequest { Uuids = { member.ObjectId.ToString("D") } })).Objects);
            Assert.Equal(byUuid, byUid);
        }

        var shown = Assert.Single((await Grpc.ReadObjectAsync(new ReadObjectRequest { Uids = { full.Uid } })).Objects);
        Assert.Equal((full.Username, 1_900_000_000_123L, 1_700_000_000_456L, false),
            (shown.Username, shown.VipExpireDate.ToDateTimeOffset().ToUnixTimeMilliseconds(), shown.ActivateDate.ToDateTimeOffset().ToUnixTimeMilliseconds(), shown.IsOwner));
        Assert.Equal(full.AvatarKey, shown.Avatar);
        var bare = Assert.Single((await Grpc.ReadObjectAsync(new ReadObjectRequest { Uids = { sparse.Uid } })).Objects);
        Assert.Equal(("", "", null, null), (bare.Username, bare.DisplayName, bare.VipExpireDate, bare.ActivateDate));
        Assert.NotEmpty(bare.HashUid);
    }

    [Fact]
    public async Task ReadObject_ByUids_SeesEachCommittedChange_OnTheNextCall()
    {
        var member = await TestMembers.CreateAsync(Server);
        var batch = new ReadObjectRequest { Uids = { member.Uid } };
        for (var round = 0; round < 3; round++)
        {
            var name = TestMembers.UniqueName("renamed");
            await TestMembers.UpdateAsync(Server, member.Uid, m => m.DisplayName = name);
            Assert.Equal(name, Assert.Single((await Grpc.ReadObjectAsync(batch)).Objects).DisplayName);
        }

        await TestMembers.UpdateAsync(Server, member.Uid, m => m.Deleted = Server.Clock.GetUtcNow());
        await Errors.ExpectAsync(() => Grpc.ReadObjectAsync(batch).ResponseAsync, StatusCode.NotFound, "ErrReadObject.GENERAL_NOT_FOUND_ANY");
    }

    [Fact]
    public async Task ReadObject_ManyConcurrentBatches_EachGetsItsOwnMembers()
    {
        var members = new List<Pan.Data.Members.Member>();
        for (var i = 0; i < 12; i++)
        {
            members.Add(await TestMembers.CreateAsync(Server));
        }

        var calls = Enumerable.Range(0, 40).Select(async i =>
        {
            var wanted = members.Skip(i % 6).Take(1 + (i % 7)).Select(m => m.Uid).ToArray();
            var request = new ReadObjectRequest();
            request.Uids.AddRange(wanted);
            var got = (await Grpc.ReadObjectAsync(request)).Objects.Select(o => o.Uid).ToArray();
            Assert.Equal(wanted, got);
        });
        await Task.WhenAll(calls);
    }

    [Fact]
    public async Task ReadObject_NothingAsked_IsUidsOrUuidsRequired()
    {
        var ex = await Errors.ExpectAsync(() => Grpc.ReadObjectAsync(new ReadObjectRequest { IgnoreDz = true, Keyword = "  " }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrReadObject.GENERAL_UIDS_OR_UUIDS_REQUIRED");
        Assert.Equal("1002", ex.Info().Metadata["code"]);
        await Errors.ExpectAsync(() => Grpc.UniversalReadObjectAsync(new UniversalReadObjectRequest()).ResponseAsync,
            StatusCode.InvalidArgument, "ErrReadObject.GENERAL_UIDS_OR_UUIDS_REQUIRED");
    }

    [Fact]
    public async Task ReadObject_BadInput_IsInvalidArgumentNamingTheField()
    {
        var tooMany = new ReadObjectRequest();
        tooMany.Uids.AddRange(Enumerable.Range(1, 101).Select(i => (long)i));
        var tooManyUuids = new ReadObjectRequest();
        tooManyUuids.Uuids.AddRange(Enumerable.Range(0, 101).Select(_ => Guid.NewGuid().ToString()));
        var tooManyHashes = new UniversalReadObjectRequest();
        tooManyHashes.HashIds.AddRange(Enumerable.Range(0, 101).Select(i => "h" + i.ToString(CultureInfo.InvariantCulture)));

        await ExpectField(Grpc.ReadObjectAsync(tooMany).ResponseAsync, "uids");
        await ExpectField(Grpc.ReadObjectAsync(tooManyUuids).ResponseAsync, "uuids");
        await ExpectField(Grpc.UniversalReadObjectAsync(tooManyHashes).ResponseAsync, "hash_ids");
        await ExpectField(Grpc.ReadObjectAsync(new ReadObjectRequest { Uids = { 0 } }).ResponseAsync, "uids");
        await ExpectField(Grpc.ReadObjectAsync(new ReadObjectRequest { Uuids = { "not-a-uuid" } }).ResponseAsync, "uuids");
        await ExpectField(Grpc.ReadObjectAsync(new ReadObjectRequest { Keyword = new string('1', 65) }).ResponseAsync, "keyword");
        await ExpectField(Grpc.UniversalReadObjectAsync(new UniversalReadObjectRequest { HashIds = { new string('h', 65) } }).ResponseAsync, "hash_ids");
    }

    [Fact]
    public async Task ReadObject_Keyword_IsAUidWhenDigits_ElseAHashId()
    {
        var byUid = await TestMembers.CreateAsync(Server);
        var byHash = await TestMembers.CreateAsync(Server);

        var one = (await Grpc.ReadObjectAsync(new ReadObjectRequest { Keyword = byUid.Uid.ToString(CultureInfo.InvariantCulture) })).Objects;
        var two = (await Grpc.ReadObjectAsync(new ReadObjectRequest { Keyword = $" {byHash.HashUid} " })).Objects;

        Assert.Equal([byUid.Uid], one.Select(o => o.Uid));
        Assert.Equal([byHash.Uid], two.Select(o => o.Uid));
        await Errors.ExpectAsync(() => Grpc.ReadObjectAsync(new ReadObjectRequest { Keyword = "not a hashid!" }).ResponseAsync,
            StatusCode.NotFound, "ErrReadObject.GENERAL_NOT_FOUND_ANY");
    }

    [Fact]
    public async Task UniversalReadObject_ByHashIds_AndIgnoreDzChangesNothing()
    {
        var a = await CreatePrivateMemberAsync();
        var b = await CreatePrivateMemberAsync();

        foreach (var ignoreDz in new[] { false, true })
        {
            var objects = (await Grpc.UniversalReadObjectAsync(new UniversalReadObjectRequest
            {
                HashIds = { b.HashUid, "not-a-hash-of-ours", a.HashUid },
                Keyword = a.Uid.ToString(CultureInfo.InvariantCulture),
                IgnoreDz = ignoreDz,
            })).Objects;

            Assert.Equal([b.Uid, a.Uid], objects.Select(o => o.Uid));
            Assert.All(objects, MemberRpcBehaviour<TFixture>.AssertPublicOnly);
        }
    }

    [Fact]
    public async Task ReadObjects_OverHttpJson_ArePublicAndReportSeedErrors()
    {
        var member = await CreatePrivateMemberAsync();

        using var read = await Server.Http.PostAsJsonAsync("/v2/member/read-object", new { uids = new[] { member.Uid } });
        var obj = (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("objects")[0];
        Assert.Equal(member.ObjectId.ToString("D"), obj.GetProperty("objectId").GetString());
        foreach (var privateField in new[] { "phone", "phoneId", "email", "activateIp" })
        {
            Assert.Equal("", obj.TryGetProperty(privateField, out var value) ? value.GetString() : "");
        }


        using var universal = await Server.Http.PostAsJsonAsync("/v2/member/universal-read-object", new { hashIds = new[] { member.HashUid } });
        Assert.Equal(HttpStatusCode.OK, universal.StatusCode);

        using var none = await Server.Http.PostAsJsonAsync("/v2/member/universal-read-object", new { });
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Equal("ErrReadObject.GENERAL_UIDS_OR_UUIDS_REQUIRED", await JsonErrors.ReasonAsync(none));

        using var bad = await Server.Http.PostAsJsonAsync("/v2/member/read-object", new { uuids = new[] { "nope" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(["uuids"], await JsonErrors.FieldsAsync(bad));
    }

    private Task<Pan.Data.Members.Member> CreatePrivateMemberAsync() =>
        TestMembers.CreateAsync(Server, m =>
        {
            m.Username = TestMembers.UniqueName("user");
            m.Email = TestMembers.UniqueName("mail") + "@example.com";
            m.EmailKey = m.Email;
            m.EmailVerified = true;
            m.ActivateIp = "198.51.100.1";
        });

    private static async Task ExpectField(Task call, string field)
    {
        var ex = await Errors.ExpectAsync(() => call, StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal(field, Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }
}

public sealed class ReadObjectBehaviour_Sqlite(SqliteServerFixture f) : ReadObjectBehaviour<SqliteServerFixture>(f);

public sealed class ReadObjectBehaviour_Postgres(PostgresServerFixture f) : ReadObjectBehaviour<PostgresServerFixture>(f);
