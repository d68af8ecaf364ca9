using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.PhaseSessions;
using Pan.Server.Deletion;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Deletion;

/// <summary>
/// A member's deletion stopped just before its commit, so that a test can run another operation exactly then: in one
/// open transaction the member row is erased and marked deleted, every <see cref="IMemberDataEraser"/> has run and the
/// member's phase sessions are gone — what DeleteMember's transaction has done by then — and that transaction's locks
/// are held (SQLite's write lock; PostgreSQL's row locks) until <see cref="CommitAsync"/>. Disposing without committing
/// rolls it back.
/// </summary>
public sealed class UncommittedDeletion : IAsyncDisposable
{
    private readonly AsyncServiceScope scope;
    private readonly PanServer server;
    private readonly string provider;
    private IDbContextTransaction? transaction;

    private UncommittedDeletion(AsyncServiceScope scope, PanServer server, string provider)
    {
        this.scope = scope;
        this.server = server;
        this.provider = provider;
    }

    public static async Task<UncommittedDeletion> StartAsync(PanServer server, ITestDatabase database, long uid)
    {
        var deletion = new UncommittedDeletion(server.Services.CreateAsyncScope(), server, database.Provider);
        var db = deletion.scope.ServiceProvider.GetRequiredService<PanDbContext>();
        deletion.transaction = await db.Database.BeginTransactionAsync();
        var now = server.Clock.GetUtcNow();
        await db.Members.Where(m => m.Uid == uid).ExecuteUpdateAsync(u => u
            .SetProperty(m => m.DisplayName, (string?)null)
            .SetProperty(m => m.DisplayNameKey, (string?)null)
            .SetProperty(m => m.Username, (string?)null)
            .SetProperty(m => m.Email, (string?)null)
            .SetProperty(m => m.EmailKey, (string?)null)
            .SetProperty(m => m.EmailVerified, false)
            .SetProperty(m => m.Deleted, now)
            .SetProperty(m => m.Modified, now)
            .SetProperty(m => m.Version, m => m.Version + 1));
        foreach (var eraser in deletion.scope.ServiceProvider.GetServices<IMemberDataEraser>())
        {
            await eraser.EraseAsync([uid], CancellationToken.None);
        }

        await db.Set<PhaseSession>().Where(s => s.Uid == uid).ExecuteDeleteAsync();
        return deletion;
    }

    /// <summary>
    /// Returns once <paramref name="other"/> has ended or, on PostgreSQL, a connection to this database waits for a lock
    /// (one this transaction holds: nothing else writes the member's rows); true in the second case. SQLite shows no
    /// waiting statement: there it returns false at once, and <paramref name="other"/> meets either this transaction's
    /// write lock or its commit.
    /// </summary>
    public async Task<bool> WaitUntilBlockingAsync(Task other)
    {
        if (provider != "postgres")
        {
            return false;
        }

        var waiting = false;
        await Eventually.HoldsAsync(async () => other.IsCompleted || (waiting = await WaitingAsync() > 0));
        return waiting && !other.IsCompleted;
    }

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

    private async Task<int> WaitingAsync()
    {
        await using var probe = server.Services.CreateAsyncScope();
        var db = probe.ServiceProvider.GetRequiredService<PanDbContext>();
        return await db.Database.SqlQueryRaw<int>(
                "SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            .SingleAsync();
    }
}
