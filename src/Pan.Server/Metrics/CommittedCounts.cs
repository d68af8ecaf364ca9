using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Pan.Server.Metrics;

/// <summary>
/// Holds counts made inside a <see cref="DbContext"/>'s transaction until it commits (<see cref="PanMetrics.WhenCommitted"/>),
/// and drops them when it rolls back or fails to commit: a counter that says a code was accepted or a token issued
/// never counts a success its transaction undid. Registered on <c>PanDbContext</c> (<c>AddPanDatabase</c>).
/// </summary>
/// <remarks>
/// Why a new transaction also drops what is held: a transaction disposed without commit or rollback (an exception
/// leaving its <c>await using</c>) raises no interceptor event; what it held can only be dropped when the context (a
/// pooled one, reused) starts its next transaction.
/// </remarks>
internal sealed class CommittedCounts : DbTransactionInterceptor, ISaveChangesInterceptor
{
    public static readonly CommittedCounts Instance = new();

    private static readonly ConditionalWeakTable<DbContext, Held> HeldByContext = new();

    private static readonly ConditionalWeakTable<DbContext, Staged> StagedByContext = new();

    private CommittedCounts()
    {
    }

    /// <summary>Runs <paramref name="count"/> now when <paramref name="db"/> has no transaction, else once it commits.</summary>
    public static void Run(DbContext db, Action count)
    {
        if (db.Database.CurrentTransaction is null)
        {
            count();
            return;
        }

        HeldByContext.GetValue(db, _ => new Held()).Add(count);
    }

    /// <summary>
    /// Runs <paramref name="count"/> once a <c>SaveChanges</c> of <paramref name="db"/> has stored <paramref name="entity"/>
    /// (staged, not yet saved, by the caller) and, when that save ran in a transaction, once the transaction commits. A
    /// save that fails counts nothing and leaves the count waiting for a save that stores the row.
    /// </summary>
    /// <remarks>
    /// Why not <see cref="Run"/> when the row is staged: outside a transaction that counted at once, so a save that then
    /// failed still counted. Why a count staged with a row the context no longer tracks is dropped at the next save: the
    /// context is pooled, and a request that ended before saving leaves its rows behind, never to be stored.
    /// </remarks>
    public static void WhenSaved(DbContext db, object entity, Action count) =>
        StagedByContext.GetValue(db, _ => new Staged()).Rows.Add((entity, count));

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Saving(eventData);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Saving(eventData);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Saved(eventData);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Saved(eventData);
        return ValueTask.FromResult(result);
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData) => NotSaved(eventData);

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        NotSaved(eventData);
        return Task.CompletedTask;
    }

    public void SaveChangesCanceled(DbContextEventData eventData) => NotSaved(eventData);

    public Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        NotSaved(eventData);
        return Task.CompletedTask;
    }

    /// <summary>Marks the staged rows this save inserts; drops those the context no longer tracks.</summary>
    private static void Saving(DbContextEventData eventData)
    {
        if (eventData.Context is not { } context || !StagedByContext.TryGetValue(context, out var staged) || staged.Rows.Count == 0)
        {
            return;
        }

        staged.Saving.Clear();
        staged.Rows.RemoveAll(row =>
        {
            var state = context.Entry(row.Entity).State;
            if (state == EntityState.Added)
            {
                staged.Saving.Add(row);
            }

            return state == EntityState.Detached;
        });
    }

    /// <summary>The rows this save inserted are stored: their counts run now, or at the commit of the transaction open.</summary>
    private static void Saved(DbContextEventData eventData)
    {
        if (eventData.Context is not { } context || !StagedByContext.TryGetValue(context, out var staged) || staged.Saving.Count == 0)
        {
            return;
        }

        foreach (var row in staged.Saving)
        {
            staged.Rows.Remove(row);
            Run(context, row.Count);
        }

        staged.Saving.Clear();
    }

    /// <summary>A save that failed stored nothing: its rows stay staged (still added) for a save that stores them.</summary>
    private static void NotSaved(DbContextEventData eventData)
    {
        if (eventData.Context is { } context && StagedByContext.TryGetValue(context, out var staged))
        {
            staged.Saving.Clear();
        }
    }

    public override DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        Take(eventData);
        return result;
    }

    public override ValueTask<DbTransaction> TransactionStartedAsync(
        DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        Take(eventData);
        return ValueTask.FromResult(result);
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Flush(eventData);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Flush(eventData);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Take(eventData);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Take(eventData);
        return Task.CompletedTask;
    }

    public override void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Take(eventData);

    public override Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Take(eventData);
        return Task.CompletedTask;
    }

    private static void Flush(DbContextEventData eventData)
    {
        foreach (var count in Take(eventData))
        {
            count();
        }
    }

    private static IReadOnlyList<Action> Take(DbContextEventData eventData) =>
        eventData.Context is { } context && HeldByContext.TryGetValue(context, out var held) ? held.Take() : Array.Empty<Action>();

    /// <summary>
    /// The counts waiting for one context's save of their rows. No lock: a context is used by one caller at a time, and
    /// its save's events run on that caller's flow.
    /// </summary>
    private sealed class Staged
    {
        public List<(object Entity, Action Count)> Rows { get; } = [];

        public List<(object Entity, Action Count)> Saving { get; } = [];
    }

    /// <summary>The counts one context's open transaction holds.</summary>
    private sealed class Held
    {
        private readonly Lock gate = new();
        private List<Action> counts = [];

        public void Add(Action count)
        {
            lock (gate)
            {
                counts.Add(count);
            }
        }

        public IReadOnlyList<Action> Take()
        {
            lock (gate)
            {
                if (counts.Count == 0)
                {
                    return Array.Empty<Action>();
                }

                var taken = counts;
                counts = [];
                return taken;
            }
        }
    }
}
