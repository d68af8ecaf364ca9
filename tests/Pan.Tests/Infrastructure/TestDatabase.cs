using Npgsql;

namespace Pan.Tests.Infrastructure;

/// <summary>A throw-away database for one server fixture.</summary>
public interface ITestDatabase : IAsyncDisposable
{
    /// <summary>The value of <c>Pan:Database:Provider</c>.</summary>
    string Provider { get; }

    string ConnectionString { get; }
}

/// <summary>A SQLite file in a temporary folder.</summary>
public sealed class SqliteTestDatabase : ITestDatabase
{
    private readonly string folder = Directory.CreateTempSubdirectory("pan-test-").FullName;

    public string Provider => "sqlite";

    public string ConnectionString => $"Data Source={Path.Combine(folder, "pan.db")}";

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a pooled connection; the temp folder is cleaned by the OS.
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A fresh database on the PostgreSQL server named by <c>PAN_TEST_POSTGRES</c> (an admin connection string;
/// <c>./test.sh</c> starts a server on loopback and sets it). Without it the PostgreSQL tests fail, never skip.
/// </summary>
public sealed class PostgresTestDatabase : ITestDatabase
{
    public const string Variable = "PAN_TEST_POSTGRES";

    private readonly string admin;
    private readonly string name = $"pan_t_{Guid.NewGuid():N}";

    private PostgresTestDatabase(string admin)
    {
        this.admin = admin;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true, MaxPoolSize = 40 }.ConnectionString;
    }

    public string Provider => "postgres";

    public string ConnectionString { get; }

    public static async Task<PostgresTestDatabase> CreateAsync()
    {
        var admin = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            throw new InvalidOperationException(
                $"{Variable} is not set. Run ./test.sh (it installs and starts PostgreSQL on loopback), or set {Variable} to an admin connection string.");
        }

        var db = new PostgresTestDatabase(admin);
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        // Why: CREATE DATABASE copies template1 and fails while another session is connected to it (parallel fixtures
        // creating databases at once); template0 accepts no connections, so copies of it never collide.
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{db.name}\" TEMPLATE template0 ENCODING 'UTF8'", connection);
        await command.ExecuteNonQueryAsync();
        return db;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
