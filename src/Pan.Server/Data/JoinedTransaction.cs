using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Pan.Server.Data;

/// <summary>
/// The caller's transaction when one is open, else a new one owned by this scope. <see cref="CommitAsync"/> commits
/// only an owned transaction (a joined one commits with its owner); disposing rolls back an owned one left uncommitted.
/// Why: steps that must be atomic on their own are also called inside larger operations (a deletion, a password change)
/// whose single transaction they have to join (SECURITY 21).
/// </summary>
public sealed class JoinedTransaction : IAsyncDisposable
{
    private readonly IDbContextTransaction? owned;

    private JoinedTransaction(IDbContextTransaction? owned) => this.owned = owned;

    public static async Task<JoinedTransaction> BeginAsync(DbContext db, CancellationToken cancellationToken) =>
        new(db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null);

    public Task CommitAsync(CancellationToken cancellationToken) => owned?.CommitAsync(cancellationToken) ?? Task.CompletedTask;

    public ValueTask DisposeAsync() => owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}
