using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Server.Deletion;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Deletion;

/// <summary>
/// <see cref="LiveMembers.HoldAsync"/>: true only for a live member, only inside the caller's transaction, and a
/// deletion of the held member waits for the holder's commit (PostgreSQL: the share lock; SQLite: the write lock).
/// </summary>
public abstract class LiveMembersBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    [Fact]
    public async Task Hold_IsTrueForALiveMember_AndFalseForADeletedOrUnknownOne()
    {
        var live = await TestMembers.CreateAsync(fixture.Server);
        var gone = await TestMembers.CreateAsync(fixture.Server, m => m.Deleted = fixture.Server.Clock.GetUtcNow());
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();

        Assert.True(await LiveMembers.HoldAsync(db, live.Uid, default));
        Assert.False(await LiveMembers.HoldAsync(db, gone.Uid, default));
        Assert.False(await LiveMembers.HoldAsync(db, long.MaxValue, default));
    }

    [Fact]
    public async Task Hold_OutsideATransaction_Throws()
    {
        var live = await TestMembers.CreateAsync(fixture.Server);
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        await Assert.ThrowsAsync<InvalidOperationException>(() => LiveMembers.HoldAsync(db, live.Uid, default));
    }

    [Fact]
    public async Task Hold_MakesTheMembersDeletionWaitForTheHoldersCommit_AndThenItDeletes()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        Task<UncommittedDeletion> deleting;
        bool waited;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            Assert.True(await LiveMembers.HoldAsync(db, member.Uid, default));

            deleting = Task.Run(() => UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid));
            waited = await LockWaits.UntilAsync(fixture.Database, 1, deleting);
            await transaction.CommitAsync();
        }

        await using (var deletion = await deleting)
        {
            await deletion.CommitAsync();
        }

        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            Assert.NotNull(await db.Members.AsNoTracking().Where(m => m.Uid == member.Uid).Select(m => m.Deleted).SingleAsync());
        }

        Assert.True(waited || fixture.Database.Provider != "postgres");
    }
}

public sealed class LiveMembersBehaviour_Sqlite(SqliteServerFixture f) : LiveMembersBehaviour<SqliteServerFixture>(f);

public sealed class LiveMembersBehaviour_Postgres(PostgresServerFixture f) : LiveMembersBehaviour<PostgresServerFixture>(f);
