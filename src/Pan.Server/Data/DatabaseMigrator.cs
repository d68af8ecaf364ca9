using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Options;
using Pan.Data;

namespace Pan.Server.Data;

/// <summary>
/// Brings the database to the latest migration when the server starts (unless <c>Pan:Database:MigrateOnStartup</c>
/// is false). One node at a time migrates (EF Core's lock on SQLite, a session advisory lock on PostgreSQL), so several
/// nodes may start at once: the others wait, then find nothing pending.
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

        if (!db.Database.IsNpgsql())
        {
            return await ApplyAsync(db, logger, cancellationToken);
        }

        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await HoldMigrationLockAsync(db, logger, cancellationToken);
            try
            {
                await CreateHistoryTableAsync(db, cancellationToken);
                return await ApplyAsync(db, logger, cancellationToken);
            }
            finally
            {
                await ReleaseMigrationLockAsync(db);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private const string MigrationLockKey = "pan_migrate";

    /// <summary>
    /// Takes, for this session, the lock that lets one node (or <c>migrate</c>) at a time apply migrations on
    /// PostgreSQL. Why Pan's own lock: EF Core's holds only within a migration transaction, and a migration that builds
    /// an index <c>CONCURRENTLY</c> runs outside one, so while one node was between transactions another took the lock
    /// and applied migrations the first had already planned ("relation already exists"). Why try and wait rather than
    /// wait in the database: a waiting statement keeps a snapshot, which a <c>CREATE INDEX CONCURRENTLY</c> of the
    /// node holding the lock waits for (a deadlock).
    /// </summary>
    private static async Task HoldMigrationLockAsync(PanDbContext db, ILogger logger, CancellationToken cancellationToken)
    {
        var told = false;
        while (!await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock(hashtextextended({MigrationLockKey}, 0)) AS \"Value\"")
            .SingleAsync(cancellationToken))
        {
            if (!told)
            {
                logger.LogInformation("Another node is migrating the database; waiting for it");
                told = true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    /// <remarks>Why a failure is let go: it must not hide the migration's own; the pool resets the session (DISCARD ALL)
    /// before reusing it, and a broken session has lost the lock already.</remarks>
    private static async Task ReleaseMigrationLockAsync(PanDbContext db)
    {
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock(hashtextextended({MigrationLockKey}, 0))", CancellationToken.None);
        }
        catch (System.Data.Common.DbException)
        {
        }
    }

    private static async Task<IReadOnlyList<string>> ApplyAsync(PanDbContext db, ILogger logger, CancellationToken cancellationToken)
    {
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
    /// executing DbCommand"), so the first migration of an empty database printed two failures that were none. It runs
    /// under the migration lock; should another process create the table at the same moment (one not taking that lock),
    /// PostgreSQL refuses the loser's catalog insert (23505) or its table (42P07), and the table is there either way. A role that may not create tables in the schema (42501) is
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
