using Microsoft.EntityFrameworkCore.Storage;
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
        Assert.True(await scope.ServiceProvider.GetRequiredService<MemberSuspensions>().RestoreAsync(uid, default));
        await transaction.CommitAsync();
    }
}

/// <summary>
/// A member's suspension stopped just before its commit, so that a test can run a sign-in exactly then: the member row
/// carries the suspension and the member's sessions and tokens are revoked in one open transaction, whose locks (SQLite's
/// write lock; PostgreSQL's row locks) are held until <see cref="CommitAsync"/>. Disposing without committing rolls it back.
/// </summary>
public sealed class UncommittedSuspension : IAsyncDisposable
{
    private readonly AsyncServiceScope scope;
    private readonly ITestDatabase database;
    private IDbContextTransaction? transaction;

    private UncommittedSuspension(AsyncServiceScope scope, ITestDatabase database)
    {
        this.scope = scope;
        this.database = database;
    }

    public static async Task<UncommittedSuspension> StartAsync(PanServer server, ITestDatabase database, long uid, DateTimeOffset? until = null)
    {
        var suspension = new UncommittedSuspension(server.Services.CreateAsyncScope(), database);
        var db = suspension.scope.ServiceProvider.GetRequiredService<PanDbContext>();
        suspension.transaction = await db.Database.BeginTransactionAsync();
        Assert.True(await suspension.scope.ServiceProvider.GetRequiredService<MemberSuspensions>().SuspendAsync(uid, until, default));
        return suspension;
    }

    /// <summary>
    /// Returns once <paramref name="other"/> has ended or, on PostgreSQL, a connection waits for a lock (one this
    /// transaction holds); true in the second case. SQLite shows no waiting statement: there it returns false at once.
    /// </summary>
    public Task<bool> WaitUntilBlockingAsync(Task other) => LockWaits.UntilAsync(database, 1, other);

    public async Task CommitAsync()
    {
        await transaction!.CommitAsync();
        await transaction.DisposeAsync();
        transaction = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (transaction is not null)
        {
            await transaction.DisposeAsync();
        }

        await scope.DisposeAsync();
    }
}
