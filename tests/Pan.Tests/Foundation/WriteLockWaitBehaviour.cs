using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
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

        await using var holder = await HoldWriteLockAsync();
        var save = client.SaveAddressBookAsync(new SaveAddressBookRequest
        {
            AccessToken = access,
            AddressBook = new() { FullName = "Lin Mei", Address = "No. 1, Xinyi Rd" },
        }).ResponseAsync;

        // Why a pause: gives the save time to reach the lock and start waiting (on SQLite, past the handler's yielding
        // retries into its sleeps). Nothing is timed: a save that gave up instead of waiting fails the last assertions.
        await Task.Delay(300);
        await using (var commit = holder.CreateCommand())
        {
            commit.CommandText = "COMMIT";
            await commit.ExecuteNonQueryAsync();
        }

        Assert.Equal("Lin Mei", (await save).AddressBook.FullName);
        Assert.Equal(1, await TestMembers.WithDbAsync(Server, db => db.Set<AddressBook>().CountAsync(b => b.Uid == member.Uid)));
    }

    /// <summary>A connection of the test's own inside a transaction that holds what the save needs.</summary>
    private async Task<DbConnection> HoldWriteLockAsync()
    {
        DbConnection connection = fixture.Database.Provider == "postgres"
            ? new NpgsqlConnection(fixture.Database.ConnectionString)
            : new SqliteConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        await using var begin = connection.CreateCommand();
        begin.CommandText = fixture.Database.Provider == "postgres"
            ? "BEGIN; LOCK TABLE address_books IN EXCLUSIVE MODE"
            : "BEGIN IMMEDIATE";
        await begin.ExecuteNonQueryAsync();
        return connection;
    }
}

public sealed class WriteLockWaitBehaviour_Sqlite(SqliteExtrasFixture f) : WriteLockWaitBehaviour<SqliteExtrasFixture>(f);

public sealed class WriteLockWaitBehaviour_Postgres(PostgresExtrasFixture f) : WriteLockWaitBehaviour<PostgresExtrasFixture>(f);
