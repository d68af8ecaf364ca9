using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Avatars;
using Pan.General.Member;
using Pan.Server.Avatars;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using SkiaSharp;

namespace Pan.Tests.Avatars;

/// <summary>
/// With the default (database) avatar store, an avatar uploaded through one node is served by another, and removed
/// everywhere; an upload that fails or is cancelled before it switches the member leaves no stored files behind.
/// </summary>
public abstract class AvatarTwoNodeBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    [Fact]
    public async Task AnAvatarUploadedOnOneNode_IsServedByAnother()
    {
        // Why: the other node gets a folder of its own, so only a store shared through the database can serve it.
        var folder = Directory.CreateTempSubdirectory("pan-avatars-").FullName;
        await using var other = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Avatars:Folder"] = folder });
        var member = await TestMembers.CreateAsync(fixture.Server);
        var token = await TestMembers.AccessTokenAsync(fixture.Server, member);
        var client = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);

        var url = new Uri((await client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(320, 200)) })).Avatar);

        using var response = await other.Http.GetAsync(url.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var served = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((280, 280), (served.Width, served.Height));

        await client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(300, 300)) });
        using var replaced = await other.Http.GetAsync(url.AbsolutePath);
        Assert.Equal(HttpStatusCode.NotFound, replaced.StatusCode);
    }

    /// <summary>
    /// Avatar files stored before the janitor existed were never pending, so those no member references (an upload whose
    /// node was killed before its switch, a replaced avatar whose delete failed) were never swept. The upgrade
    /// (migration AvatarLegacyFiles) marks such files pending since they were stored: the janitor deletes the old ones at
    /// its next sweep and a young one (an upload under way during the upgrade) only once older than the grace, and keeps
    /// the files a member references.
    /// </summary>
    [Fact]
    public async Task FilesStoredBeforeTheJanitor_ThatNoMemberReferences_AreDeletedAfterTheUpgrade_OnceOlderThanTheGrace()
    {
        await using var database = fixture.Database.Provider == "sqlite"
            ? new SqliteTestDatabase()
            : (ITestDatabase)await PostgresTestDatabase.CreateAsync();
        await using var server = await PanServer.StartAsync(database);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var migrator = db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
        // Back to the schema before the upgrade (the server migrated up).
        var before = db.Database.GetMigrations().TakeWhile(m => !m.EndsWith("_AvatarLegacyFiles", StringComparison.Ordinal)).Last();
        await migrator.MigrateAsync(before);

        var now = server.Clock.GetUtcNow();
        var (referenced, orphan, young) = (AvatarKeys.New(), AvatarKeys.New(), AvatarKeys.New());
        foreach (var (key, created) in new[] { (referenced, now.AddDays(-30)), (orphan, now.AddDays(-30)), (young, now.AddMinutes(-1)) })
        {
            foreach (var size in AvatarKeys.Sizes)
            {
                db.Add(new AvatarFile { Key = key, Size = size, Png = Png(size, size), Created = created, PendingSince = null });
            }
        }

        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
        await TestMembers.UpdateAsync(server, (await TestMembers.CreateAsync(server)).Uid, m => m.AvatarKey = referenced);

        await migrator.MigrateAsync();
        var janitor = server.Services.GetRequiredService<AvatarJanitor>();
        await janitor.SweepOnceAsync(default);

        Assert.Equal([referenced, young], await KeysAsync());
        server.Clock.Advance(TimeSpan.FromMinutes(61));
        await janitor.SweepOnceAsync(default);
        // Why eventually: the clock's advance also wakes the node's own hourly sweep, which may still be deleting.
        await Eventually.HoldsAsync(async () => (await KeysAsync()).SequenceEqual([referenced]));
        Assert.Equal(0, await db.Set<AvatarFile>().CountAsync(f => f.Key == referenced && f.PendingSince != null));

        async Task<List<string>> KeysAsync() =>
            (await db.Set<AvatarFile>().AsNoTracking().Where(f => f.Key == referenced || f.Key == orphan || f.Key == young)
                .Select(f => f.Key).Distinct().ToListAsync()).OrderBy(k => k == referenced ? 0 : k == orphan ? 1 : 2).ToList();
    }

    [Fact]
    public async Task AnUploadWhoseSwitchKeepsLosingTheRace_IsAborted_AndLeavesNoStoredFilesBehind()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var token = await TestMembers.AccessTokenAsync(fixture.Server, member);
        var before = await StoredFilesAsync();

        // Every update of the member writes nothing, as when another change got there first each time.
        await using (await FailureTriggers.SkipAsync(fixture.Server, fixture.Database, "members", TriggeredWrite.Update, member.Uid))
        {
            await Errors.ExpectAsync(() => Upload(token).ResponseAsync, StatusCode.Aborted, "CONCURRENT_CHANGE");
        }

        Assert.Equal(before, await StoredFilesAsync());
    }

    [Fact]
    public async Task AnUploadCancelledWhileItWaitsToSwitch_LeavesNoStoredFilesNoMemberPointsTo()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var token = await TestMembers.AccessTokenAsync(fixture.Server, member);
        var before = await StoredFilesAsync();
        using var cancel = new CancellationTokenSource();
        await using (await DatabaseLock.HoldRowsAsync(fixture.Database, "members", $"uid = {member.Uid}"))
        {
            var upload = Upload(token, cancel.Token).ResponseAsync;
            // PostgreSQL: the files are saved and the switch waits for the member's row. SQLite: the save waits for the write lock.
            if (!await LockWaits.UntilAsync(fixture.Database, 1, upload))
            {
                await Task.Delay(300);
            }

            cancel.Cancel();
            await Assert.ThrowsAnyAsync<RpcException>(() => upload);
            // PostgreSQL: the cancelled switch stops waiting before the row is let go.
            await LockWaits.UntilNoneAsync(fixture.Database);
        }

        await Eventually.HoldsAsync(async () => (await StoredFilesAsync()).SetEquals(before.Union(FilesOf(await CurrentKeyAsync(member.Uid)))));
    }

    /// <summary>
    /// A node killed between storing an upload's files and switching the member to them leaves files no member
    /// references. The janitor deletes such files once they are older than Pan:Avatars:OrphanGraceMinutes (60); files
    /// a member references (also ones stored by an upload killed right after its switch), and young ones (an upload
    /// that may still switch), stay.
    /// </summary>
    [Fact]
    public async Task TheJanitor_DeletesFilesNoMemberReferences_OnceOlderThanTheGrace_AndKeepsReferencedAndYoungOnes()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var uploaded = Path.GetFileName(new Uri((await Upload(await TestMembers.AccessTokenAsync(fixture.Server, member))).Avatar).AbsolutePath)[..AvatarKeys.Length];
        var switched = await StoreAsync();
        await TestMembers.UpdateAsync(fixture.Server, (await TestMembers.CreateAsync(fixture.Server)).Uid, m => m.AvatarKey = switched);
        var orphan = await StoreAsync();
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(61));
        var young = await StoreAsync();

        await fixture.Server.Services.GetRequiredService<AvatarJanitor>().SweepOnceAsync(default);

        // Why eventually: the clock's advance also wakes the nodes' own hourly sweeps, which may have taken a key first
        // and still be deleting its files when this sweep returns.
        await Eventually.HoldsAsync(async () => !(await StoredFilesAsync()).Intersect(FilesOf(orphan)).Any());
        var stored = await StoredFilesAsync();
        Assert.Superset(FilesOf(uploaded).Concat(FilesOf(switched)).Concat(FilesOf(young)).ToHashSet(), stored);
    }

    /// <summary>
    /// An upload whose switch comes after its files have turned older than the grace (a node stalled between storing
    /// and switching): the janitor sees them pending, referenced by no member, and deletes them; then the switch
    /// commits. The member must still end up with an avatar that is served, never a key whose files are gone, with
    /// the database store and with a folder.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnUploadWhoseFilesTheJanitorTookBeforeItsSwitch_StillLeavesTheMemberAnAvatarThatIsServed(bool inAFolder)
    {
        var settings = inAFolder ? new Dictionary<string, string?> { ["Pan:Avatars:Folder"] = Directory.CreateTempSubdirectory("pan-avatars-").FullName } : [];
        await using var node = await PanServer.StartAsync(fixture.Database, settings, configure: SweepOnceTheFirstUploadIsStored);
        var member = await TestMembers.CreateAsync(node);
        var token = await TestMembers.AccessTokenAsync(node, member);

        var url = new Uri((await new MemberServiceV2.MemberServiceV2Client(node.Grpc).UpdateAvatarAsync(
            new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(200, 200)) })).Avatar);

        Assert.Equal(Path.GetFileName(url.AbsolutePath)[..AvatarKeys.Length], await CurrentKeyAsync(member.Uid));
        using var served = await node.Http.GetAsync(url.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    /// <summary>
    /// A member's previous avatar is deleted after the change that let it go has committed (a new upload, the member's
    /// deletion). When that delete fails (the store unavailable, the node killed), the files must not stay forever
    /// referenced by nobody: the janitor deletes them once older than the grace, with the database store and a folder.
    /// </summary>
    [Theory]
    [InlineData(false, "upload")]
    [InlineData(true, "upload")]
    [InlineData(false, "deletion")]
    [InlineData(true, "deletion")]
    public async Task AnOldAvatarWhoseDeleteAfterTheCommitFails_IsDeletedByTheJanitorAfterTheGrace(bool inAFolder, string change)
    {
        var settings = inAFolder ? new Dictionary<string, string?> { ["Pan:Avatars:Folder"] = Directory.CreateTempSubdirectory("pan-avatars-").FullName } : [];
        RefusingStore? refusing = null;
        await using var node = await PanServer.StartAsync(fixture.Database, settings, configure: builder => WrapStore(builder, inner => refusing = new RefusingStore(inner)));
        var member = await TestMembers.CreateAsync(node);
        var token = await TestMembers.AccessTokenAsync(node, member);
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var old = Path.GetFileName(new Uri((await client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(200, 200)) })).Avatar).AbsolutePath)[..AvatarKeys.Length];
        var store = node.Services.GetRequiredService<IAvatarStore>();

        refusing!.RefuseNextDelete();
        string? kept = null;
        if (change == "upload")
        {
            kept = Path.GetFileName(new Uri((await client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(210, 210)) })).Avatar).AbsolutePath)[..AvatarKeys.Length];
        }
        else
        {
            await DeleteMemberAsync(node, member, token);
        }

        Assert.Equal(1, refusing.Refused);
        Assert.NotNull(await store.OpenReadAsync(old, AvatarKeys.Sizes[0], default));

        node.Clock.Advance(TimeSpan.FromMinutes(61));
        await node.Services.GetRequiredService<AvatarJanitor>().SweepOnceAsync(default);

        await Eventually.HoldsAsync(() => GoneAsync(store, old));
        foreach (var size in AvatarKeys.Sizes)
        {
            if (kept is not null)
            {
                await using var served = await store.OpenReadAsync(kept, size, default);
                Assert.NotNull(served);
            }
        }
    }

    /// <summary>
    /// An operator's removal of a member's avatar and a member's deletion delete the old files after their commit. A
    /// node that dies right after that commit (nothing after it runs: here the store refuses every write made outside a
    /// transaction, the pending mark and the delete) must still leave the files to the janitor: they are marked pending
    /// in the change's own transaction.
    /// </summary>
    [Theory]
    [InlineData(false, "deletion")]
    [InlineData(true, "deletion")]
    [InlineData(false, "admin-removal")]
    [InlineData(true, "admin-removal")]
    public async Task AnOldAvatar_WhenTheNodeDiesRightAfterTheCommit_IsDeletedByTheJanitorAfterTheGrace(bool inAFolder, string change)
    {
        await using var google = await FakeGoogleServer.StartAsync();
        var settings = google.Settings();
        if (inAFolder)
        {
            settings["Pan:Avatars:Folder"] = Directory.CreateTempSubdirectory("pan-avatars-").FullName;
        }

        RefusingStore? refusing = null;
        await using var node = await PanServer.StartAsync(fixture.Database, settings, configure: builder => WrapStore(builder, inner => refusing = new RefusingStore(inner)));
        var member = await TestMembers.CreateAsync(node);
        var token = await TestMembers.AccessTokenAsync(node, member);
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var old = Path.GetFileName(new Uri((await client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(200, 200)) })).Avatar).AbsolutePath)[..AvatarKeys.Length];
        var store = node.Services.GetRequiredService<IAvatarStore>();

        refusing!.RefuseEverythingOutsideATransaction();
        if (change == "deletion")
        {
            await DeleteMemberAsync(node, member, token);
        }
        else
        {
            var admin = $"staff{Guid.NewGuid():N}@example.com";
            await using (var scope = node.Services.CreateAsyncScope())
            {
                await scope.ServiceProvider.GetRequiredService<Pan.Server.Admin.AdminDirectory>().AddOrUpdateAsync(admin, "member-admin", default);
            }

            var adminClient = new Pan.General.Admin.AdminService.AdminServiceClient(node.Grpc);
            var adminToken = (await adminClient.GoogleLoginAsync(new Pan.General.Admin.GoogleLoginRequest { AccessToken = google.Issue(admin) })).AdminToken;
            await adminClient.RemoveMemberAvatarAsync(new Pan.General.Admin.RemoveMemberAvatarRequest { AdminToken = adminToken, Uid = member.Uid });
        }

        Assert.True(refusing.Refused > 0);
        refusing.Heal();
        Assert.NotNull(await store.OpenReadAsync(old, AvatarKeys.Sizes[0], default));

        node.Clock.Advance(TimeSpan.FromMinutes(61));
        await node.Services.GetRequiredService<AvatarJanitor>().SweepOnceAsync(default);

        await Eventually.HoldsAsync(() => GoneAsync(store, old));
    }

    /// <summary>
    /// A member deleted between its upload's switch and the upload's claim of its files: the deletion found the files
    /// still pending (nothing to mark) and its delete after the commit failed; the claim then took them out of pending,
    /// referenced by nobody, so the janitor never swept them. The upload must leave no such files: they are deleted (or
    /// left pending for the janitor), with the database store and a folder.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AMemberDeletedBetweenItsUploadsSwitchAndClaim_WhoseDeleteFails_LeavesNoFilesForever(bool inAFolder)
    {
        var (node, interleaving) = await StartInterleavingAsync(inAFolder);
        await using var _ = node;
        var member = await TestMembers.CreateAsync(node);
        var token = await TestMembers.AccessTokenAsync(node, member);
        var store = node.Services.GetRequiredService<IAvatarStore>();
        interleaving.BeforeFirstClaim = async () =>
        {
            interleaving.RefuseDeletes = true;
            await DeleteMemberAsync(node, member, token);
            interleaving.RefuseDeletes = false;
        };

        var url = new Uri((await new MemberServiceV2.MemberServiceV2Client(node.Grpc).UpdateAvatarAsync(
            new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(200, 200)) })).Avatar);
        var key = Path.GetFileName(url.AbsolutePath)[..AvatarKeys.Length];
        Assert.True(interleaving.Refused > 0);

        node.Clock.Advance(TimeSpan.FromMinutes(61));
        await node.Services.GetRequiredService<AvatarJanitor>().SweepOnceAsync(default);

        await Eventually.HoldsAsync(() => GoneAsync(store, key));
    }

    /// <summary>
    /// As above, for the janitor's claim of a key a member references (its upload's node killed between the switch and
    /// the claim): the member deleted between the janitor's look at the members and its claim, with the deletion's delete
    /// failing, must not leave the files claimed and referenced by nobody; a later sweep deletes them.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AMemberDeletedWhileTheJanitorClaimsItsAvatar_WhoseDeleteFails_LeavesNoFilesForever(bool inAFolder)
    {
        var (node, interleaving) = await StartInterleavingAsync(inAFolder);
        await using var _ = node;
        var member = await TestMembers.CreateAsync(node);
        var token = await TestMembers.AccessTokenAsync(node, member);
        var store = node.Services.GetRequiredService<IAvatarStore>();
        var key = AvatarKeys.New();
        foreach (var size in AvatarKeys.Sizes)
        {
            await store.SaveAsync(key, size, Png(size, size), default);
        }

        // The upload's switch committed; its node was killed before the claim.
        await TestMembers.UpdateAsync(node, member.Uid, m => m.AvatarKey = key);
        interleaving.BeforeFirstClaim = async () =>
        {
            interleaving.RefuseDeletes = true;
            await DeleteMemberAsync(node, member, token);
            interleaving.RefuseDeletes = false;
        };
        var janitor = node.Services.GetRequiredService<AvatarJanitor>();

        node.Clock.Advance(TimeSpan.FromMinutes(61));
        await janitor.SweepOnceAsync(default);
        // Why eventually: the clock's advance also wakes the node's own hourly sweep, which may be the one that claims.
        await Eventually.HoldsAsync(() => interleaving.Refused > 0 && !interleaving.RefuseDeletes);
        node.Clock.Advance(TimeSpan.FromMinutes(61));
        await janitor.SweepOnceAsync(default);

        await Eventually.HoldsAsync(() => GoneAsync(store, key));
    }

    /// <summary>
    /// A member uploads picture A, then picture B: B's upload switches the member from A to B and deletes A's files
    /// before A's upload has claimed them. A's claim then finds its files gone, as if the janitor had taken them; A must
    /// not store its picture again and switch the member back to it — the newer upload wins, and A answers the URL the
    /// member shows now (B's), with the database store and a folder.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ANewerUploadThatDeletesTheOlderUploadsFilesBeforeItsClaim_StaysTheMembersAvatar(bool inAFolder)
    {
        var (node, interleaving) = await StartInterleavingAsync(inAFolder);
        await using var _ = node;
        var member = await TestMembers.CreateAsync(node);
        var token = await TestMembers.AccessTokenAsync(node, member);
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        string? newer = null;
        interleaving.BeforeFirstClaim = async () =>
        {
            // Upload A has switched the member to its key and waits here, before its claim; upload B runs whole.
            newer = (await client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(240, 240)) })).Avatar;
        };

        var older = (await client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(200, 200)) })).Avatar;

        Assert.NotNull(newer);
        var newerKey = Path.GetFileName(new Uri(newer!).AbsolutePath)[..AvatarKeys.Length];
        await using (var scope = node.Services.CreateAsyncScope())
        {
            Assert.Equal(newerKey, await scope.ServiceProvider.GetRequiredService<PanDbContext>().Members.Where(m => m.Uid == member.Uid).Select(m => m.AvatarKey).SingleAsync());
        }

        Assert.Equal(newer, older);
        using var served = await node.Http.GetAsync(new Uri(newer!).AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        using var picture = SKBitmap.Decode(await served.Content.ReadAsByteArrayAsync());
        Assert.Equal((280, 280), (picture.Width, picture.Height));
    }

    /// <summary>The node's store, running <see cref="BeforeFirstClaim"/> before the first claim; deletes fail while <see cref="RefuseDeletes"/>.</summary>
    private sealed class InterleavingStore(IAvatarStore inner) : IAvatarStore
    {
        private int claimed;
        private int refused;

        public Func<Task>? BeforeFirstClaim { get; set; }

        public volatile bool RefuseDeletes;

        public int Refused => Volatile.Read(ref refused);

        public Task SaveAsync(string key, int size, ReadOnlyMemory<byte> png, CancellationToken cancellationToken) => inner.SaveAsync(key, size, png, cancellationToken);

        public Task<Stream?> OpenReadAsync(string key, int size, CancellationToken cancellationToken) => inner.OpenReadAsync(key, size, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken)
        {
            if (RefuseDeletes)
            {
                Interlocked.Increment(ref refused);
                throw new IOException("refused by the test store");
            }

            return inner.DeleteAsync(key, cancellationToken);
        }

        public async Task<bool> ClaimAsync(string key, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref claimed, 1) == 0 && BeforeFirstClaim is { } before)
            {
                await before();
            }

            return await inner.ClaimAsync(key, cancellationToken);
        }

        public Task<bool> DeletePendingAsync(string key, CancellationToken cancellationToken) => inner.DeletePendingAsync(key, cancellationToken);

        public Task ReleaseAsync(PanDbContext db, string key, CancellationToken cancellationToken) => inner.ReleaseAsync(db, key, cancellationToken);

        public Task<IReadOnlyList<string>> PendingAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
            inner.PendingAsync(before, limit, cancellationToken);
    }

    /// <summary>
    /// Whether no size of <paramref name="key"/> is stored. Why the callers wait for it: the clock's advance also wakes
    /// the node's own hourly sweep, which may have taken the key first and still be deleting its files.
    /// </summary>
    private static async Task<bool> GoneAsync(IAvatarStore store, string key)
    {
        foreach (var size in AvatarKeys.Sizes)
        {
            await using var stream = await store.OpenReadAsync(key, size, default);
            if (stream is not null)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task DeleteMemberAsync(PanServer node, Pan.Data.Members.Member member, string token)
    {
        string delToken;
        await using (var scope = node.Services.CreateAsyncScope())
        {
            delToken = (await scope.ServiceProvider.GetRequiredService<Pan.Server.Tokens.TokenService>().IssueVerifyTokenAsync(member.Uid, Pan.Server.Tokens.VerifyPurposes.Delete, default)).Token;
        }

        await new Pan.General.Member.Dangerous.Command.CommandClient(node.Grpc).DeleteMemberAsync(new Pan.General.Member.Dangerous.CmdDeleteMemberRequest
        {
            AppId = "jkforum", PanAccessToken = token, DelToken = delToken,
        });
    }

    /// <summary>Replaces the node's avatar store by <paramref name="wrap"/> of the one it would have used.</summary>
    /// <summary>A node whose avatar store is wrapped in an <see cref="InterleavingStore"/>; its avatars in the database or, with <paramref name="inAFolder"/>, in a new folder.</summary>
    private async Task<(PanServer Node, InterleavingStore Interleaving)> StartInterleavingAsync(bool inAFolder)
    {
        var settings = inAFolder ? new Dictionary<string, string?> { ["Pan:Avatars:Folder"] = Directory.CreateTempSubdirectory("pan-avatars-").FullName } : [];
        InterleavingStore? interleaving = null;
        var node = await PanServer.StartAsync(fixture.Database, settings, configure: builder => WrapStore(builder, inner => interleaving = new InterleavingStore(inner)));
        return (node, interleaving!);
    }

    private static void WrapStore(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder, Func<IAvatarStore, IAvatarStore> wrap)
    {
        var original = builder.Services.Last(d => d.ServiceType == typeof(IAvatarStore));
        builder.Services.Remove(original);
        builder.Services.AddSingleton(sp => wrap((IAvatarStore)original.ImplementationFactory!(sp)));
    }

    /// <summary>The node's store, but a delete armed by <see cref="RefuseNextDelete"/> fails as an unavailable store's would.</summary>
    private sealed class RefusingStore(IAvatarStore inner) : IAvatarStore
    {
        private int armed;
        private int refused;

        public int Refused => Volatile.Read(ref refused);

        private int outsideTransactions;

        public void RefuseNextDelete() => Volatile.Write(ref armed, 1);

        /// <summary>From now on a delete, and a pending mark made outside a transaction, fail (as after a node's death).</summary>
        public void RefuseEverythingOutsideATransaction() => Volatile.Write(ref outsideTransactions, 1);

        public void Heal() => Volatile.Write(ref outsideTransactions, 0);

        public Task SaveAsync(string key, int size, ReadOnlyMemory<byte> png, CancellationToken cancellationToken) => inner.SaveAsync(key, size, png, cancellationToken);

        public Task<Stream?> OpenReadAsync(string key, int size, CancellationToken cancellationToken) => inner.OpenReadAsync(key, size, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref armed, 0) == 1 || Volatile.Read(ref outsideTransactions) == 1)
            {
                Interlocked.Increment(ref refused);
                throw new IOException("refused by the test store");
            }

            return inner.DeleteAsync(key, cancellationToken);
        }

        public Task<bool> ClaimAsync(string key, CancellationToken cancellationToken) => inner.ClaimAsync(key, cancellationToken);

        public Task<bool> DeletePendingAsync(string key, CancellationToken cancellationToken) => inner.DeletePendingAsync(key, cancellationToken);

        public Task ReleaseAsync(PanDbContext db, string key, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref outsideTransactions) == 1 && db.Database.CurrentTransaction is null)
            {
                Interlocked.Increment(ref refused);
                throw new IOException("refused by the test store");
            }

            return inner.ReleaseAsync(db, key, cancellationToken);
        }

        public Task<IReadOnlyList<string>> PendingAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
            inner.PendingAsync(before, limit, cancellationToken);
    }

    /// <summary>
    /// Wraps the node's avatar store: once the first key has all its sizes stored, the clock moves past the grace and
    /// the janitor sweeps, before the upload goes on to its switch.
    /// </summary>
    private static void SweepOnceTheFirstUploadIsStored(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
    {
        var original = builder.Services.Last(d => d.ServiceType == typeof(IAvatarStore));
        builder.Services.Remove(original);
        builder.Services.AddSingleton<IAvatarStore>(sp => new SweepingStore((IAvatarStore)original.ImplementationFactory!(sp), sp));
    }

    private sealed class SweepingStore(IAvatarStore inner, IServiceProvider services) : IAvatarStore
    {
        private int swept;

        public async Task SaveAsync(string key, int size, ReadOnlyMemory<byte> png, CancellationToken cancellationToken)
        {
            await inner.SaveAsync(key, size, png, cancellationToken);
            if (size == AvatarKeys.Sizes[^1] && Interlocked.Exchange(ref swept, 1) == 0)
            {
                ((Microsoft.Extensions.Time.Testing.FakeTimeProvider)services.GetRequiredService<TimeProvider>()).Advance(TimeSpan.FromMinutes(61));
                await services.GetRequiredService<AvatarJanitor>().SweepOnceAsync(cancellationToken);
            }
        }

        public Task<Stream?> OpenReadAsync(string key, int size, CancellationToken cancellationToken) => inner.OpenReadAsync(key, size, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

        public Task<bool> ClaimAsync(string key, CancellationToken cancellationToken) => inner.ClaimAsync(key, cancellationToken);

        public Task<bool> DeletePendingAsync(string key, CancellationToken cancellationToken) => inner.DeletePendingAsync(key, cancellationToken);

        public Task ReleaseAsync(PanDbContext db, string key, CancellationToken cancellationToken) => inner.ReleaseAsync(db, key, cancellationToken);

        public Task<IReadOnlyList<string>> PendingAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
            inner.PendingAsync(before, limit, cancellationToken);
    }

    /// <summary>Stores both sizes of a new key as an upload does before it switches the member; returns the key.</summary>
    private async Task<string> StoreAsync()
    {
        var key = AvatarKeys.New();
        var store = fixture.Server.Services.GetRequiredService<IAvatarStore>();
        foreach (var size in AvatarKeys.Sizes)
        {
            await store.SaveAsync(key, size, Png(size, size), default);
        }

        return key;
    }

    private AsyncUnaryCall<UpdateAvatarResponse> Upload(string token, CancellationToken cancellationToken = default) =>
        new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc).UpdateAvatarAsync(
            new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(200, 200)) }, cancellationToken: cancellationToken);

    private async Task<HashSet<string>> StoredFilesAsync()
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var files = await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<AvatarFile>().Select(f => new { f.Key, f.Size }).ToListAsync();
        return files.Select(f => AvatarKeys.FileName(f.Key, f.Size)).ToHashSet();
    }

    private static IEnumerable<string> FilesOf(string? key) => key is null ? [] : AvatarKeys.Sizes.Select(size => AvatarKeys.FileName(key, size));

    private async Task<string?> CurrentKeyAsync(long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PanDbContext>().Members.Where(m => m.Uid == uid).Select(m => m.AvatarKey).SingleAsync();
    }

    private static byte[] Png(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor((byte)Random.Shared.Next(256), 128, 64));
        }

        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    }
}

public sealed class AvatarTwoNodeBehaviour_Sqlite(SqliteServerFixture f) : AvatarTwoNodeBehaviour<SqliteServerFixture>(f);

public sealed class AvatarTwoNodeBehaviour_Postgres(PostgresServerFixture f) : AvatarTwoNodeBehaviour<PostgresServerFixture>(f);
