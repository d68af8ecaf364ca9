using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Pan.Bench.Load;

namespace Pan.Bench.Scenarios;

/// <summary>
/// The write floor: how many durable one-row commits per second the run's database takes, from as many clients as the
/// phone flows use and with nothing of Pan in the way. Every step of a phone flow must commit at least once (a code is
/// single-use, a send is counted against the caps), so no flow can make more RPCs per second than this.
/// </summary>
/// <remarks>
/// SQLite: a scratch file beside the run's database (same disk), write-ahead log, <c>synchronous=FULL</c> as the server
/// runs by default; the commits run in the bench process, so its CPU shows as bench CPU. PostgreSQL: a scratch table in
/// the run's database, dropped afterwards; the commits cost what the cluster's settings make them cost (the bench's
/// loopback cluster runs with fsync off).
/// </remarks>
public static class CommitScenarios
{
    public const string Commits = "commits/s";

    public static async Task<ScenarioResult> CommitFloorAsync(RunContext run)
    {
        var database = run.Database ?? throw new InvalidOperationException("The commit floor needs the run's database.");
        var workers = run.Options.FlowConcurrency;
        var sqlite = database.Provider == "sqlite";
        var scratch = sqlite
            ? Path.Combine(Path.GetDirectoryName(new SqliteConnectionStringBuilder(database.ConnectionString).DataSource)!, "commit-floor.db")
            : null;
        var connections = new DbConnection[workers];
        var commands = new DbCommand[workers];
        try
        {
            for (var i = 0; i < workers; i++)
            {
                connections[i] = sqlite
                    ? new SqliteConnection($"Data Source={scratch};Pooling=False")
                    : new NpgsqlConnection(database.ConnectionString);
                await connections[i].OpenAsync();
                if (i == 0)
                {
                    await ExecuteAsync(connections[0], sqlite
                        ? "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS commit_floor (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);"
                        : "CREATE TABLE IF NOT EXISTS bench_commit_floor (id bigserial PRIMARY KEY, v integer NOT NULL);");
                }

                if (sqlite)
                {
                    // Why busy_timeout: SQLite's own wait for the write lock, as the server sets it (not the driver's 150 ms sleeps).
                    await ExecuteAsync(connections[i], "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
                }

                commands[i] = connections[i].CreateCommand();
                commands[i].CommandText = sqlite ? "INSERT INTO commit_floor (v) VALUES (1)" : "INSERT INTO bench_commit_floor (v) VALUES (1)";
                await commands[i].PrepareAsync();
            }

            var result = await run.MeasureAsync(ScenarioNames.Commit, Commits, workers,
                w => w.TimeAsync(() => commands[w.Index].ExecuteNonQueryAsync()));

            // Why: SQLite's commits run in the bench process, so server + database CPU says nothing about their cost.
            return sqlite ? result with { CpuMicrosPerCall = null } : result;
        }
        finally
        {
            if (!sqlite && connections[0] is { State: System.Data.ConnectionState.Open } first)
            {
                await ExecuteAsync(first, "DROP TABLE IF EXISTS bench_commit_floor");
            }

            foreach (var connection in connections)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }

            if (scratch is not null)
            {
                foreach (var file in new[] { scratch, scratch + "-wal", scratch + "-shm" })
                {
                    File.Delete(file);
                }
            }
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
