using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Pan.Data;

namespace Pan.Server.Cli.Import;

/// <summary>
/// Multi-row INSERTs and id allocation for the member import, on either provider. Columns, quoting and parameter types
/// come from the EF model (value converters included), so the statements stay in step with the mappings; what EF adds
/// per row (tracking, one statement per row) is what this avoids. Must run inside the caller's transaction.
/// </summary>
internal static class BulkSql
{
    /// <summary>Most parameters in one statement (both providers allow more: SQLite 32766, PostgreSQL 65535).</summary>
    private const int MaxParameters = 30_000;

    /// <summary>
    /// Takes <paramref name="count"/> ids of <paramref name="table"/>'s database-generated key for rows the caller will
    /// insert with explicit ids. PostgreSQL: from the identity sequence (safe against concurrent inserts). SQLite: the
    /// ids after the table's AUTOINCREMENT high-water mark; safe because the caller's transaction holds SQLite's one
    /// write lock (BEGIN IMMEDIATE) until it commits, and SQLite moves the mark past explicit ids itself.
    /// </summary>
    public static async Task<long[]> AllocateIdsAsync(PanDbContext db, string table, string column, int count, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return [];
        }

        // Why: identifiers cannot be parameters; these come from a fixed list, never from input.
        if (!(table, column).Equals(("accounts", "id")) && !(table, column).Equals(("members", "uid")))
        {
            throw new ArgumentOutOfRangeException(nameof(table), $"{table}.{column} is not a key the import allocates.");
        }

        if (db.Database.IsNpgsql())
        {
            var next = "SELECT nextval(pg_get_serial_sequence('" + table + "', '" + column + "')) AS \"Value\" FROM generate_series(1, {0})";
            return await db.Database.SqlQueryRaw<long>(next, count).ToArrayAsync(cancellationToken);
        }

        var highest = "SELECT MAX(v) AS \"Value\" FROM (SELECT COALESCE(MAX(seq), 0) AS v FROM sqlite_sequence WHERE name = '" + table
            + "' UNION ALL SELECT COALESCE(MAX(\"" + column + "\"), 0) FROM \"" + table + "\")";
        var high = await db.Database.SqlQueryRaw<long>(highest).SingleAsync(cancellationToken);
        return [.. Enumerable.Range(1, count).Select(i => high + i)];
    }

    /// <summary>Inserts <paramref name="rows"/> (every mapped column, keys included) with as few statements as the parameter limit allows.</summary>
    public static async Task InsertAsync<T>(PanDbContext db, IReadOnlyList<T> rows, CancellationToken cancellationToken)
        where T : class
    {
        if (rows.Count == 0)
        {
            return;
        }

        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T)} is not mapped.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var properties = entity.GetProperties().ToList();
        var sql = db.GetService<ISqlGenerationHelper>();
        var head = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", properties.Select(p => sql.DelimitIdentifier(p.GetColumnName(table)!)))}) VALUES ";
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Bulk inserts run inside the caller's transaction.");
        // Why: SQLite binds parameters by name with a linear search, so a statement with thousands of parameters costs
        // quadratic time; a one-row INSERT that SQLite prepares once and runs per row is its fastest path. PostgreSQL
        // pays a round trip per statement, so there many rows go in one statement.
        var perStatement = db.Database.IsSqlite() ? 1 : Math.Max(1, Math.Min(1000, MaxParameters / properties.Count));
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        for (var start = 0; start < rows.Count; start += perStatement)
        {
            var end = Math.Min(rows.Count, start + perStatement);
            var text = new StringBuilder(head);
            command.Parameters.Clear();
            for (var r = start; r < end; r++)
            {
                text.Append(r == start ? "(" : ", (");
                for (var c = 0; c < properties.Count; c++)
                {
                    var name = "p" + command.Parameters.Count.ToString(CultureInfo.InvariantCulture);
                    text.Append(c == 0 ? string.Empty : ", ").Append(sql.GenerateParameterNamePlaceholder(name));
                    var property = properties[c];
                    command.Parameters.Add(property.GetRelationalTypeMapping()
                        .CreateParameter(command, name, property.GetGetter().GetClrValue(rows[r]), property.IsNullable));
                }

                text.Append(')');
            }

            var statement = text.ToString();
            if (!string.Equals(command.CommandText, statement, StringComparison.Ordinal))
            {
                command.CommandText = statement;
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
