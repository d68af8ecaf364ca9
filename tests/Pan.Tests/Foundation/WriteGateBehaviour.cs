using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.AddressBooks;
using Pan.General.Member;
using Pan.Server.Data;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Foundation;

/// <summary>
/// The SQLite write gate (<see cref="SqliteWriteGate"/>): a transaction that ends in any way — committed, failed half-way
/// by the database, or disposed without commit or rollback — gives its turn back, so every later write still goes
/// through, alone or concurrent. On PostgreSQL there is no gate, and the same writes behave the same.
/// </summary>
/// <remarks>
/// Why the gate's own state is looked at: a turn never given back would not fail a write (a waiter stops waiting after
/// the busy timeout and begins without it); it would only make every transaction of the server wait that long first.
/// </remarks>
public abstract class WriteGateBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ExtrasFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Fact]
    public async Task Writes_AfterTransactionsFailHalfWay_StillCommit_AndTheGateIsFree()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        await SaveAsync(access, "Lin Mei");
        var second = new SaveAddressBookRequest { AccessToken = access, AddressBook = new() { FullName = "Wang Xiao", Address = "No. 2, Zhongshan Rd", DefaultBuyer = true } };

        // The last write of the save (the new row, after the UPDATE that moved the default flag) fails: the transaction
        // ends by an exception inside `await using var tx`, with neither commit nor rollback called.
        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "address_books", TriggeredWrite.Insert, member.Uid))
        {
            for (var i = 0; i < 3; i++)
            {
                await HalfWrittenChecks.ExpectInternalAsync(() => Client.SaveAddressBookAsync(second).ResponseAsync);
            }
        }

        await AssertGateFreeAsync();
        Assert.True((await Client.SaveAddressBookAsync(second)).AddressBook.DefaultBuyer);
        Assert.Equal(2, await BookCountAsync(member.Uid));
        await AssertGateFreeAsync();
    }

    [Fact]
    public async Task ATransactionDisposedWithoutCommitOrRollback_GivesItsTurnBack_AndTheNextTransactionCommits()
    {
        var member = await TestMembers.CreateAsync(Server);
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var scope = Server.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            db.Add(NewBook(member.Uid, "left behind"));
            await db.SaveChangesAsync();
            throw new InvalidOperationException("the operation gives up half-way");
        });

        await AssertGateFreeAsync();
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            db.Add(NewBook(member.Uid, "kept"));
            await db.SaveChangesAsync();
            await tx.CommitAsync();
        }

        Assert.Equal(["kept"], await TestMembers.WithDbAsync(Server, db =>
            db.Set<AddressBook>().Where(b => b.Uid == member.Uid).Select(b => b.FullName).ToListAsync()));
        await AssertGateFreeAsync();
    }

    [Fact]
    public async Task ConcurrentWriters_AllCommit_WhileOthersFailHalfWay()
    {
        const int Writers = 8;
        const int SavesEach = 3;
        var members = await Task.WhenAll(Enumerable.Range(0, Writers + 1).Select(_ => TestMembers.CreateAsync(Server)));
        var tokens = await Task.WhenAll(members.Select(m => TestMembers.AccessTokenAsync(Server, m)));
        var failing = members[Writers];

        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "address_books", TriggeredWrite.Insert, failing.Uid))
        {
            var writers = Enumerable.Range(0, Writers).Select(async w =>
            {
                for (var i = 0; i < SavesEach; i++)
                {
                    await SaveAsync(tokens[w], $"writer {w} book {i}");
                }
            });
            var failures = Enumerable.Range(0, SavesEach).Select(i =>
                HalfWrittenChecks.ExpectInternalAsync(() => SaveAsync(tokens[Writers], $"refused {i}")));
            await Task.WhenAll(writers.Concat(failures));
        }

        foreach (var member in members[..Writers])
        {
            Assert.Equal(SavesEach, await BookCountAsync(member.Uid));
        }

        Assert.Equal(0, await BookCountAsync(failing.Uid));
        await AssertGateFreeAsync();
    }

    private Task<SaveAddressBookResponse> SaveAsync(string access, string name) =>
        Client.SaveAddressBookAsync(new SaveAddressBookRequest { AccessToken = access, AddressBook = new() { FullName = name, Address = "No. 1, Xinyi Rd" } }).ResponseAsync;

    private Task<int> BookCountAsync(long uid) => TestMembers.WithDbAsync(Server, db => db.Set<AddressBook>().CountAsync(b => b.Uid == uid));

    private static AddressBook NewBook(long uid, string name) =>
        new() { Uid = uid, FullName = name, Address = "No. 3, Heping Rd", Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow };

    /// <summary>SQLite: the file's gate exists and is free (once background work is done). PostgreSQL: no gate is installed.</summary>
    private async Task AssertGateFreeAsync()
    {
        if (fixture.Database.Provider == "sqlite")
        {
            Assert.NotNull(SqliteWriteGate.IsFree(fixture.Database.ConnectionString));
            await Eventually.HoldsAsync(() => SqliteWriteGate.IsFree(fixture.Database.ConnectionString) == true);
            return;
        }

        var interceptors = await TestMembers.WithDbAsync(Server, db => Task.FromResult(
            db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.Interceptors ?? []));
        Assert.DoesNotContain(interceptors, i => i is SqliteWriteGate);
    }
}

public sealed class WriteGateBehaviour_Sqlite(SqliteExtrasFixture f) : WriteGateBehaviour<SqliteExtrasFixture>(f);

public sealed class WriteGateBehaviour_Postgres(PostgresExtrasFixture f) : WriteGateBehaviour<PostgresExtrasFixture>(f);
