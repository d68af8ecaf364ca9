using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Pan.Bench.Hosting;

/// <summary>A fresh, empty database for one run; dropped (or deleted) afterwards.</summary>
public abstract class BenchDatabase : IAsyncDisposable
{
    /// <summary>The value of <c>Pan:Database:Provider</c>.</summary>
    public abstract string Provider { get; }

    /// <summary>The server's <c>ConnectionStrings:Pan</c>.</summary>
    public abstract string ConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(string provider, int members, BenchOptions options) => provider switch
    {
        "sqlite" => new SqliteBenchDatabase(Path.Combine(Path.GetFullPath(options.OutputDirectory), "tmp")),
        "postgres" => await PostgresBenchDatabase.CreateAsync(options.PostgresAdmin, options.PostgresOptions, members),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "Unknown database."),
    };

    /// <summary>
    /// CPU time used so far by each of the database's own processes serving this database (PostgreSQL backends), or
    /// null when the database runs inside the server (SQLite) or /proc is not readable.
    /// </summary>
    public virtual Task<DatabaseCpu?> CpuTimeAsync() => Task.FromResult<DatabaseCpu?>(null);

    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// CPU ticks (1/100 s) of each backend at one moment, keyed by process id and start time (a reused pid is another
/// process).
/// </summary>
public sealed record DatabaseCpu(IReadOnlyDictionary<(int Pid, long Started), long> Ticks)
{
    /// <summary>
    /// CPU the backends used since <paramref name="before"/>: each live backend's ticks less what it had then (all of
    /// them for one started since). Why per backend rather than two sums: a backend that exits in between (the
    /// server's pool closing an idle connection) takes its whole past CPU out of a sum, which made the difference
    /// negative; counted this way, only its CPU since <paramref name="before"/> is missed.
    /// </summary>
    public TimeSpan Since(DatabaseCpu before) =>
        TimeSpan.FromSeconds(Ticks.Sum(t => t.Value - before.Ticks.GetValueOrDefault(t.Key)) / 100.0);
}

/// <summary>A SQLite file in a folder of its own under the results folder (same disk a deployment would use).</summary>
internal sealed class SqliteBenchDatabase : BenchDatabase
{
    private readonly string folder;

    public SqliteBenchDatabase(string parent)
    {
        folder = Path.Combine(parent, $"sqlite-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        File = Path.Combine(folder, "pan.db");
    }

    public string File { get; }

    public override string Provider => "sqlite";

    public override string ConnectionString => $"Data Source={File}";

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A database named pan_bench_… on the loopback PostgreSQL server, dropped with FORCE afterwards.</summary>
internal sealed class PostgresBenchDatabase : BenchDatabase
{
    private readonly string admin;
    private readonly string name;

    private PostgresBenchDatabase(string admin, string? extra, string name)
    {
        this.admin = admin;
        this.name = name;
        var server = new NpgsqlConnectionStringBuilder(admin + (string.IsNullOrEmpty(extra) ? string.Empty : ";" + extra)) { Database = name };
        ConnectionString = server.ConnectionString;
    }

    public override string Provider => "postgres";

    public override string ConnectionString { get; }

    public static async Task<PostgresBenchDatabase> CreateAsync(string admin, string? extra, int members)
    {
        var database = new PostgresBenchDatabase(admin, extra, $"pan_bench_{members}_{Guid.NewGuid().ToString("N")[..8]}");
        await database.ExecuteAsync($"CREATE DATABASE \"{database.name}\"");
        return database;
    }

    /// <summary>User + system time of each backend connected to this database (from /proc).</summary>
    public override async Task<DatabaseCpu?> CpuTimeAsync()
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE datname = @name", connection);
        command.Parameters.AddWithValue("name", name);
        var ticks = new Dictionary<(int, long), long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var pid = reader.GetInt32(0);
            string text;
            try
            {
                text = await File.ReadAllTextAsync($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                continue; // exited since the query (FileNotFoundException, or ESRCH on a read of a dying process)
            }

            // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th, the
            // start time the 20th.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            var started = long.Parse(fields[19], CultureInfo.InvariantCulture);
            ticks[(pid, started)] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }

        return new DatabaseCpu(ticks);
    }

    public override async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
