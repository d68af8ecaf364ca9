using Microsoft.EntityFrameworkCore;
using Pan.Data.AddressBooks;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Foundation;

/// <summary>
/// A write that meets the database's lock held by another connection waits for it and then commits: on SQLite through
/// Pan's own busy handler (<c>Data/SqliteBusyTimeout</c>), on PostgreSQL through the row and table locks.
/// </summary>
/// <remarks>
/// What this cannot tell without timing: whether SQLite's handler or Microsoft.Data.Sqlite's own retry (150 ms sleeps
/// up to the command timeout) did the waiting. It fails if the handler cannot be installed (every open would throw) or
/// if a held lock made a write fail instead of wait.
/// </remarks>
public abstract class WriteLockWaitBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ExtrasFixture
{
    private PanServer Server => fixture.Server;

    [Fact]
    public async Task AWrite_MeetingALockHeldByAnotherConnection_WaitsAndThenCommits()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var client = new MemberServiceV2.MemberServiceV2Client(Server.Grpc);

        await using var holder = await DatabaseLock.HoldAsync(fixture.Database, "address_books");
        var save = client.SaveAddressBookAsync(new SaveAddressBookRequest
        {
            AccessToken = access,
            AddressBook = new() { FullName = "Lin Mei", Address = "No. 1, Xinyi Rd" },
        }).ResponseAsync;

        // Why a pause: gives the save time to reach the lock and start waiting (on SQLite, past the handler's yielding
        // retries into its sleeps). Nothing is timed: a save that gave up instead of waiting fails the last assertions.
        await Task.Delay(300);
        await holder.CommitAsync();

        Assert.Equal("Lin Mei", (await save).AddressBook.FullName);
        Assert.Equal(1, await TestMembers.WithDbAsync(Server, db => db.Set<AddressBook>().CountAsync(b => b.Uid == member.Uid)));
    }
}

public sealed class WriteLockWaitBehaviour_Sqlite(SqliteExtrasFixture f) : WriteLockWaitBehaviour<SqliteExtrasFixture>(f);

public sealed class WriteLockWaitBehaviour_Postgres(PostgresExtrasFixture f) : WriteLockWaitBehaviour<PostgresExtrasFixture>(f);
