using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Pan.Server.Data;
using SQLitePCL;

namespace Pan.Tests.Foundation;

/// <summary>
/// <see cref="SqliteReadConnection"/> (the connections of ReadObject's SQLite read) against a real SQLite file: it reads
/// the file the connection string names, sees rows committed after it opened, refuses writes, and runs without SQLite's
/// per-connection mutex, which in SQLite's default mode is taken around every call, each column read included.
/// </summary>
public sealed class SqliteReadConnectionTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pan-readconnection-").FullName;
    private readonly string connectionString;
    private readonly SqliteConnection writer;

    public SqliteReadConnectionTests()
    {
        connectionString = $"Data Source={Path.Combine(folder, "read.db")}";
        writer = new SqliteConnection(connectionString + ";Pooling=False");
        writer.Open();
        Execute(writer, "PRAGMA journal_mode = WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, s TEXT); INSERT INTO t VALUES (1, 'one');");
    }

    [Fact]
    public void ReadsTheNamedFile_AndSeesRowsCommittedAfterItOpened()
    {
        using var read = new SqliteReadConnection(connectionString);
        using var rows = new SqliteRowReader(read.Handle, "SELECT s FROM t ORDER BY k");
        Assert.Equal(["one"], Strings(rows));

        Execute(writer, "INSERT INTO t VALUES (2, 'two');");
        Assert.Equal(["one", "two"], Strings(rows));
    }

    [Fact]
    public void RefusesWrites()
    {
        using var read = new SqliteReadConnection(connectionString);
        Assert.Equal(raw.SQLITE_READONLY, raw.sqlite3_exec(read.Handle, "INSERT INTO t VALUES (3, 'three');"));
        Assert.Equal(1L, Count(writer));
    }

    [Fact]
    public void RunsWithoutTheConnectionMutex()
    {
        using var read = new SqliteReadConnection(connectionString);
        Assert.Equal(IntPtr.Zero, sqlite3_db_mutex(read.Handle.DangerousGetHandle()));
    }

    [Fact]
    public void AnInMemoryDatabase_IsTheOneTheConnectionStringNames()
    {
        const string memory = "Data Source=pan-readconnection-memory;Mode=Memory;Cache=Shared";
        using var owner = new SqliteConnection(memory);
        owner.Open();
        Execute(owner, "CREATE TABLE t (k INTEGER PRIMARY KEY, s TEXT); INSERT INTO t VALUES (1, 'in memory');");

        using var read = new SqliteReadConnection(memory);
        using var rows = new SqliteRowReader(read.Handle, "SELECT s FROM t");
        Assert.Equal(["in memory"], Strings(rows));
        Assert.Equal(raw.SQLITE_READONLY, raw.sqlite3_exec(read.Handle, "DELETE FROM t;"));
    }

    public void Dispose()
    {
        writer.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private static List<string?> Strings(SqliteRowReader rows)
    {
        var read = new List<string?>();
        while (rows.Step())
        {
            read.Add(rows.GetString(0));
        }

        rows.Reset();
        return read;
    }

    private static long Count(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM t";
        return (long)command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern IntPtr sqlite3_db_mutex(IntPtr db);
}
