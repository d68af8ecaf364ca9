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
internal sealed class CommittedCounts : DbTransactionInterceptor
{
    public static readonly CommittedCounts Instance = new();

    private static readonly ConditionalWeakTable<DbContext, Held> HeldByContext = new();

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
