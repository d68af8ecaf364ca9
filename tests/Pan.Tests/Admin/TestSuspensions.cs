using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Server.Suspension;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Admin;

/// <summary>Suspends members for the suites of the ways in, through the same service the admin API and the CLI use.</summary>
public static class TestSuspensions
{
    /// <summary>Suspends <paramref name="uid"/> until <paramref name="until"/> (null: until restored), in one transaction.</summary>
    public static async Task SuspendAsync(PanServer server, long uid, DateTimeOffset? until = null)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        Assert.True(await scope.ServiceProvider.GetRequiredService<MemberSuspensions>().SuspendAsync(uid, until, default));
        await transaction.CommitAsync();
    }

    /// <summary>Lifts the suspension of <paramref name="uid"/>, in one transaction.</summary>
    public static async Task RestoreAsync(PanServer server, long uid)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        Assert.NotEqual(RestoreResult.NoSuchMember, await scope.ServiceProvider.GetRequiredService<MemberSuspensions>().RestoreAsync(uid, default));
        await transaction.CommitAsync();
    }
}

/// <summary>
/// A member's suspension stopped just before its commit, so that a test can run a sign-in exactly then: the member row
/// carries the suspension and the member's sessions and tokens are revoked in one open transaction, whose locks (SQLite's
/// write lock; PostgreSQL's row locks) are held until <see cref="CommitAsync"/>. Disposing without committing rolls it back.
/// </summary>
public sealed class UncommittedSuspension : UncommittedChange
{
    private UncommittedSuspension(PanServer server, ITestDatabase database)
        : base(server, database)
    {
    }

    public static async Task<UncommittedSuspension> StartAsync(PanServer server, ITestDatabase database, long uid, DateTimeOffset? until = null)
    {
        var suspension = new UncommittedSuspension(server, database);
        await suspension.BeginAsync();
        Assert.True(await suspension.Scope.ServiceProvider.GetRequiredService<MemberSuspensions>().SuspendAsync(uid, until, default));
        return suspension;
    }
}
