using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data.PhaseSessions;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Pan.Tests.PhoneFlows;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 22 on a database that answers but cannot be written: another connection holds the write lock (SQLite) or
/// an exclusive table lock (PostgreSQL) for longer than the server waits. The sign-in fails closed with UNAVAILABLE,
/// issues no token and spends nothing (SECURITY 21); once the lock is gone the same code signs in.
/// </summary>
/// <remarks>
/// Why a fixture of its own: the server's connection string gives up after one second (SQLite's <c>Default Timeout</c>,
/// Npgsql's <c>Command Timeout</c>), so the wait ends within seconds instead of the 30-second defaults.
/// </remarks>
public abstract class LockedDatabaseBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : LockedDatabaseFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    private PhoneFlow Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task PhoneLogin_WhileTheDatabaseStaysLockedPastTheTimeout_IsUnavailable_IssuesNothing_AndTheSameCodeThenSignsIn()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var uid = await TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.Account!.PhoneE164 == e164).Select(m => m.Uid).SingleAsync());
        var start = await Phones.StartLoginAsync(e164);
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2);
        var submit = new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code };
        var sessionsBefore = await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().CountAsync(s => s.Uid == uid));

        // PostgreSQL: the lock stops the code step's first write, the code's conditional update.
        await using (await DatabaseLock.HoldAsync(fixture.Database, "phase_sessions"))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => Client.LoginAsync(submit).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        }

        Assert.Equal(sessionsBefore, await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().CountAsync(s => s.Uid == uid)));
        Assert.False(await TestMembers.WithDbAsync(Server, db => db.Set<PhaseSession>().AnyAsync(s => s.Uid == uid && s.CompletedAt != null)));

        var done = await Client.LoginAsync(submit);
        Assert.NotEmpty(done.PhaseDoneAuthToken);
        Assert.Equal(sessionsBefore + 1, await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().CountAsync(s => s.Uid == uid)));
    }
}

/// <summary>A phone-flow server whose database connection gives up waiting for a lock after about a second.</summary>
public abstract class LockedDatabaseFixture : PhoneFlowFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["ConnectionStrings:Pan"] = Database.Provider == "postgres"
            ? Database.ConnectionString + ";Command Timeout=1"
            : Database.ConnectionString + ";Default Timeout=1",
    };
}

public sealed class SqliteLockedDatabaseFixture : LockedDatabaseFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresLockedDatabaseFixture : LockedDatabaseFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class LockedDatabaseBehaviour_Sqlite(SqliteLockedDatabaseFixture f) : LockedDatabaseBehaviour<SqliteLockedDatabaseFixture>(f);

public sealed class LockedDatabaseBehaviour_Postgres(PostgresLockedDatabaseFixture f) : LockedDatabaseBehaviour<PostgresLockedDatabaseFixture>(f);
