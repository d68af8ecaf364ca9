using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Options;
using Pan.Data;

namespace Pan.Server.Data;

/// <summary>
/// Brings the database to the latest migration when the server starts (unless <c>Pan:Database:MigrateOnStartup</c>
/// is false). EF Core takes a database-wide lock while migrating, so several nodes may start at once.
/// </summary>
public sealed class DatabaseMigrator(IServiceProvider services, IOptions<DatabaseOptions> options, ILogger<DatabaseMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.MigrateOnStartup)
        {
            return;
        }

        await using var scope = services.CreateAsyncScope();
        await MigrateAsync(scope.ServiceProvider.GetRequiredService<PanDbContext>(), logger, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Creates the SQLite folder if needed, applies migrations and (SQLite) turns on write-ahead logging; returns the
    /// migrations that were pending.
    /// </summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(PanDbContext db, ILogger logger, CancellationToken cancellationToken)
    {
        if (db.Database.IsSqlite())
        {
            var builder = new SqliteConnectionStringBuilder(db.Database.GetConnectionString());
            var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(folder) && builder.DataSource != ":memory:")
            {
                Directory.CreateDirectory(folder);
            }
        }

        if (db.Database.IsNpgsql())
        {
            await CreateHistoryTableAsync(db, cancellationToken);
        }

        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            logger.LogInformation("Applying {Count} migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
        }

        await db.Database.MigrateAsync(cancellationToken);
        if (db.Database.IsSqlite())
        {
            // Why: WAL lets readers proceed while one writer commits; the setting is stored in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        return pending;
    }

    /// <summary>
    /// PostgreSQL: creates the migration history table when it is missing, as EF Core's migrator would. Why first: the
    /// PostgreSQL provider tells whether the table exists by reading it, and logs each failed read at Error ("Failed
    /// executing DbCommand"), so the first migration of an empty database printed two failures that were none. Nodes
    /// starting together may race to create it; PostgreSQL then refuses the loser's catalog insert (23505) or its
    /// table (42P07), and the table is there either way. A role that may not create tables in the schema (42501) is
    /// left to EF Core's migrator, which then answers it as it did before this step.
    /// </summary>
    private static async Task CreateHistoryTableAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var script = db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript();
        try
        {
            await db.Database.ExecuteSqlRawAsync(script, cancellationToken);
        }
        catch (Npgsql.PostgresException ex) when (ex.SqlState is Npgsql.PostgresErrorCodes.UniqueViolation or Npgsql.PostgresErrorCodes.DuplicateTable
            or Npgsql.PostgresErrorCodes.InsufficientPrivilege)
        {
        }
    }
}
