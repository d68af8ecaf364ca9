using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Pan.Data;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// The plan the database picks for a query EF Core translates (<c>EXPLAIN QUERY PLAN</c> on SQLite, <c>EXPLAIN</c> on
/// PostgreSQL), with the query's own parameters. On PostgreSQL sequential scans are turned off for the plan, so a table
/// a test fills with a few rows shows whether an index can serve the query at all, not which path is cheaper today.
/// </summary>
public static class QueryPlans
{
    public static async Task<string> ExplainAsync<T>(PanDbContext db, IQueryable<T> query)
    {
        await db.Database.OpenConnectionAsync();
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var postgres = db.Database.ProviderName!.Contains("Npgsql", StringComparison.Ordinal);
            if (postgres)
            {
                await db.Database.ExecuteSqlRawAsync("SET LOCAL enable_seqscan = off");
            }

            await using var command = query.CreateDbCommand();
            command.Transaction = transaction.GetDbTransaction();
            command.CommandText = (postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + command.CommandText;
            var lines = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    lines.Add(reader.GetString(postgres ? 0 : 3));
                }
            }

            await transaction.RollbackAsync();
            return string.Join('\n', lines);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
