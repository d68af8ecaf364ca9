using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// A change stopped just before its commit, so that a test can run another operation exactly then: its writes are made
/// in one open transaction (by <see cref="BeginAsync"/>'s caller) whose locks (SQLite's write lock; PostgreSQL's row
/// locks) are held until <see cref="CommitAsync"/>. Disposing without committing rolls it back.
/// </summary>
public abstract class UncommittedChange : IAsyncDisposable
{
    private readonly ITestDatabase database;
    private IDbContextTransaction? transaction;

    protected UncommittedChange(PanServer server, ITestDatabase database)
    {
        Scope = server.Services.CreateAsyncScope();
        this.database = database;
    }

    /// <summary>The scope whose context holds the open transaction.</summary>
    protected AsyncServiceScope Scope { get; }

    /// <summary>Opens the transaction; returns the context to write through.</summary>
    protected async Task<PanDbContext> BeginAsync()
    {
        var db = Scope.ServiceProvider.GetRequiredService<PanDbContext>();
        transaction = await db.Database.BeginTransactionAsync();
        return db;
    }

    /// <summary>
    /// Returns once <paramref name="other"/> has ended or, on PostgreSQL, a connection to this database waits for a lock
    /// (one this transaction holds); true in the second case. SQLite shows no waiting statement: there it returns false
    /// at once, and <paramref name="other"/> meets either this transaction's write lock or its commit.
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

        await Scope.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
