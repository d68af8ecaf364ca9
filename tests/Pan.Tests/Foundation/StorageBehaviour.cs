using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Server.Members;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Foundation;

/// <summary>The schema comes from real migrations, and uniqueness is enforced by the database itself.</summary>
public abstract class StorageBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    [Fact]
    public async Task Startup_AppliesEveryMigration()
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync());
    }

    /// <summary>
    /// The model and the provider's migrations agree: a change to an entity or its configuration without a migration
    /// (or two migrations made apart whose model snapshots were merged wrongly) would leave the schema short of it.
    /// </summary>
    [Fact]
    public async Task TheMigrations_CoverTheWholeModel()
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        Assert.False(db.Database.HasPendingModelChanges(), "the model has changes no migration of this provider makes");
    }

    /// <summary>
    /// Every migration can be undone, one by one down to an empty database, and then applied again. On SQLite a column
    /// dropped on the way down is a table rebuild from the previous migration's model, so a migration whose recorded
    /// model misses tables (two migrations made apart, their snapshots merged) fails here.
    /// </summary>
    [Fact]
    public async Task EveryMigration_GoesDownInTurn_AndUpAgain()
    {
        await using var database = fixture.Database.Provider == "sqlite"
            ? new SqliteTestDatabase()
            : (ITestDatabase)await PostgresTestDatabase.CreateAsync();
        await using var server = await PanServer.StartAsync(database);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var migrator = db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();

        for (var i = migrations.Count - 2; i >= -1; i--)
        {
            var target = i < 0 ? Microsoft.EntityFrameworkCore.Migrations.Migration.InitialDatabase : migrations[i];
            var ex = await Record.ExceptionAsync(() => migrator.MigrateAsync(target));
            Assert.True(ex is null, $"undoing {migrations[i + 1]}: {ex}");
        }

        Assert.Empty(await db.Database.GetAppliedMigrationsAsync());
        await migrator.MigrateAsync();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    /// <summary>
    /// The SessionPublicIds migration gives the sessions open when it runs random public ids of their own (16 bytes,
    /// each different), as a sign-in draws for a new one: ListSessions shows them and EndSession finds them.
    /// </summary>
    [Fact]
    public async Task TheSessionPublicIdsMigration_GivesOpenSessionsRandomIdsOfTheirOwn()
    {
        await using var database = fixture.Database.Provider == "sqlite"
            ? new SqliteTestDatabase()
            : (ITestDatabase)await PostgresTestDatabase.CreateAsync();
        await using var server = await PanServer.StartAsync(database);
        var member = await TestMembers.CreateAsync(server);
        for (var i = 0; i < 3; i++)
        {
            await TestMembers.AuthTokenAsync(server, member);
        }

        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var migrator = db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        var index = migrations.FindIndex(m => m.EndsWith("_SessionPublicIds", StringComparison.Ordinal));
        await migrator.MigrateAsync(migrations[index - 1]);
        await migrator.MigrateAsync();

        var ids = await db.Set<Pan.Data.Tokens.AuthSession>().AsNoTracking().Where(s => s.Uid == member.Uid).Select(s => s.PublicId).ToListAsync();
        Assert.True(ids.Count >= 3, $"{ids.Count} sessions");
        Assert.All(ids, id => Assert.Equal(16, id.Length));
        Assert.Equal(ids.Count, ids.Select(Convert.ToHexString).Distinct().Count());
    }

    /// <summary>
    /// A member's deletion erases its Omniauth refresh tokens by uid (<c>SocialIdentityEraser</c>), in the deletion's
    /// transaction; the table keeps every token for up to <c>Pan:Omniauth:RefreshTokenDays</c>, so without an index on
    /// uid each deletion read all of it.
    /// </summary>
    [Fact]
    public async Task ErasingAMembersOmniauthRefreshTokens_FindsThemThroughAnIndex()
    {
        IReadOnlyCollection<long> uids = [1, 2];
        var plan = await TestMembers.WithDbAsync(fixture.Server, db =>
            QueryPlans.ExplainAsync(db, db.Set<Pan.Data.Omniauth.OmniauthRefreshToken>().Where(t => uids.Contains(t.Uid))));

        Assert.DoesNotContain("Seq Scan on omniauth_refresh_tokens", plan, StringComparison.Ordinal);
        Assert.Contains("ix_omniauth_refresh_tokens_uid", plan, StringComparison.Ordinal);
    }

    /// <summary>
    /// The avatar janitor reads the avatar files still pending past the grace period and asks, key by key, whether a
    /// member references it: neither may read the whole table (every stored avatar; every member).
    /// </summary>
    [Fact]
    public async Task TheAvatarJanitorsQueries_UseIndexes()
    {
        var key = Pan.Server.Avatars.AvatarKeys.New();
        var before = DateTimeOffset.UtcNow;
        var (members, files) = await TestMembers.WithDbAsync(fixture.Server, async db => (
            await QueryPlans.ExplainAsync(db, db.Members.Where(m => m.AvatarKey == key).Select(m => m.Uid)),
            await QueryPlans.ExplainAsync(db, Pan.Server.Avatars.DatabaseAvatarStore.PendingQuery(db, before).Take(1000))));

        Assert.Contains("ix_members_avatar_key", members, StringComparison.Ordinal);
        Assert.Contains("ix_avatar_files_pending_since", files, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan", members + files, StringComparison.Ordinal);
    }

    /// <summary>
    /// The token janitor finds ended sessions that still hold device facts by the partial index that holds just them,
    /// never by reading the whole session table.
    /// </summary>
    [Fact]
    public async Task TheTokenJanitorsLeftoverDeviceQuery_UsesItsPartialIndex()
    {
        var plan = await TestMembers.WithDbAsync(fixture.Server, db =>
            QueryPlans.ExplainAsync(db, Pan.Server.Tokens.EndedSessions.WithLeftoverDevice(db).Take(Pan.Server.Tokens.EndedSessions.ForgetBatch).Select(s => s.Id)));

        Assert.Contains("ix_auth_sessions_ended_with_device", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
        // SQLite: a whole-table read is a "SCAN <table>" line with no index.
        Assert.All(plan.Split('\n').Where(l => l.StartsWith("SCAN ", StringComparison.Ordinal)), l => Assert.Contains("INDEX", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task NewMembers_GetSequentialUids_UniqueObjectIds_AndHashUidsThatDecode()
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var creator = scope.ServiceProvider.GetRequiredService<MemberCreator>();
        var hashUids = scope.ServiceProvider.GetRequiredService<HashUids>();
        var account = new Account { PhoneE164 = UniquePhone(), PhoneCountryCode = 886 };
        var first = await creator.CreateAsync(account, new Member { DisplayName = "first", DisplayNameKey = Key() }, default);
        var second = await creator.CreateAsync(account, new Member { DisplayName = "second", DisplayNameKey = Key() }, default);

        Assert.True(second.Uid > first.Uid);
        Assert.NotEqual(first.ObjectId, second.ObjectId);
        Assert.Equal(first.Uid, hashUids.Decode(first.HashUid!));
        Assert.Equal(second.Uid, hashUids.Decode(second.HashUid!));
        Assert.Equal(first.Uid, account.DefaultMemberUid);
        Assert.Null(hashUids.Decode("not-a-hash"));
    }

    [Fact]
    public async Task SamePhoneTwice_IsRefusedByTheDatabase()
    {
        var phone = UniquePhone();
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            db.Accounts.Add(new Account { PhoneE164 = phone, PhoneCountryCode = 886 });
            await db.SaveChangesAsync();
        }

        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            db.Accounts.Add(new Account { PhoneE164 = phone, PhoneCountryCode = 886 });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }
    }

    [Fact]
    public async Task SameDisplayNameKeyOrEmailKeyTwice_IsRefusedByTheDatabase()
    {
        var key = Key();
        var email = $"{Key()}@example.com";
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var creator = scope.ServiceProvider.GetRequiredService<MemberCreator>();
        await creator.CreateAsync(new Account { PhoneE164 = UniquePhone() }, new Member { DisplayName = "a", DisplayNameKey = key, EmailKey = email, EmailVerified = true }, default);

        await using var second = fixture.Server.Services.CreateAsyncScope();
        var again = second.ServiceProvider.GetRequiredService<MemberCreator>();
        await Assert.ThrowsAsync<DbUpdateException>(() =>
            again.CreateAsync(new Account { PhoneE164 = UniquePhone() }, new Member { DisplayName = "b", DisplayNameKey = key }, default));

        await using var third = fixture.Server.Services.CreateAsyncScope();
        var once = third.ServiceProvider.GetRequiredService<MemberCreator>();
        await Assert.ThrowsAsync<DbUpdateException>(() =>
            once.CreateAsync(new Account { PhoneE164 = UniquePhone() }, new Member { DisplayName = "c", DisplayNameKey = Key(), EmailKey = email, EmailVerified = true }, default));

        // An unverified address reserves nothing: any number of members may hold it unverified.
        await using var fourth = fixture.Server.Services.CreateAsyncScope();
        var unverified = fourth.ServiceProvider.GetRequiredService<MemberCreator>();
        await unverified.CreateAsync(new Account { PhoneE164 = UniquePhone() }, new Member { DisplayName = "d", DisplayNameKey = Key(), EmailKey = email }, default);
    }

    private static string Key() => Guid.NewGuid().ToString("N");

    private static string UniquePhone() => "+8869" + Random.Shared.NextInt64(0, 90_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class StorageBehaviour_Sqlite(SqliteServerFixture f) : StorageBehaviour<SqliteServerFixture>(f);

public sealed class StorageBehaviour_Postgres(PostgresServerFixture f) : StorageBehaviour<PostgresServerFixture>(f);
