using System.Text;
using Microsoft.Data.Sqlite;
using Pan.Server.Data;

namespace Pan.Tests.Foundation;

/// <summary>
/// <see cref="SqliteRowReader"/> (ReadObject's SQLite read) against a real SQLite file: NULL against 0 and the empty
/// string, multi-byte text, GUIDs stored as text and as blobs, re-running with a new binding, and errors as
/// <see cref="SqliteException"/>. The paths Pan's own schema never takes (a blob GUID, a 0 in a nullable column) are
/// only shown here.
/// </summary>
public sealed class SqliteRowReaderTests : IDisposable
{
    private static readonly Guid Id = Guid.Parse("0192f0c5-3a1b-7c2d-8e4f-5a6b7c8d9e0f");

    private readonly string folder = Directory.CreateTempSubdirectory("pan-rowreader-").FullName;
    private readonly SqliteConnection connection;

    public SqliteRowReaderTests()
    {
        connection = new SqliteConnection($"Data Source={Path.Combine(folder, "rows.db")};Pooling=False");
        connection.Open();
        using var setup = connection.CreateCommand();
        setup.CommandText =
            "CREATE TABLE t (k INTEGER PRIMARY KEY, n INTEGER, s TEXT, g TEXT, b BLOB);" +
            "INSERT INTO t VALUES (1, NULL, NULL, $g, $b), (2, 0, '', $g, $b), (3, 42, 'héllo 世界', $g, $b);";
        setup.Parameters.AddWithValue("$g", Id.ToString().ToUpperInvariant());
        setup.Parameters.AddWithValue("$b", Id.ToByteArray());
        setup.ExecuteNonQuery();
    }

    [Fact]
    public void Reads_NullZeroEmptyAndText_AsTheyAreStored()
    {
        using var rows = new SqliteRowReader(connection, "SELECT k, n, s, g, b FROM json_each(?1) AS w CROSS JOIN t ON t.k = w.value");
        rows.BindText(1, "[1,2,3]"u8);
        var read = new List<(long, long?, string?, Guid, Guid)>();
        while (rows.Step())
        {
            read.Add((rows.GetInt64(0), rows.GetNullableInt64(1), rows.GetString(2), rows.GetGuid(3), rows.GetGuid(4)));
        }

        rows.Reset();
        Assert.Equal(
            [(1L, (long?)null, (string?)null, Id, Id), (2L, 0L, "", Id, Id), (3L, 42L, "héllo 世界", Id, Id)],
            read);
    }

    [Fact]
    public void AfterReset_ANewBindingRunsTheStatementAgain()
    {
        using var rows = new SqliteRowReader(connection, "SELECT k FROM json_each(?1) AS w CROSS JOIN t ON t.k = w.value");
        foreach (var (json, expected) in new[] { ("[3]", new long[] { 3 }), ("[2,9,1]", [2, 1]), ("[]", []) })
        {
            rows.BindText(1, Encoding.UTF8.GetBytes(json));
            var keys = new List<long>();
            while (rows.Step())
            {
                keys.Add(rows.GetInt64(0));
            }

            rows.Reset();
            Assert.Equal(expected, keys);
        }
    }

    [Fact]
    public void GuidsAsText_ReadInEveryFormGuidParseTakes()
    {
        // The "D" form is parsed from the column's bytes; any other text form goes through Guid.Parse, as before.
        using var rows = new SqliteRowReader(connection, "SELECT value FROM json_each(?1)");
        rows.BindText(1, Encoding.UTF8.GetBytes(
            $"[\"{Id:D}\",\"{Id.ToString("D").ToUpperInvariant()}\",\"{Id:N}\",\"{Id:B}\",\" {Id:D} \"]"));
        var read = new List<Guid>();
        while (rows.Step())
        {
            read.Add(rows.GetGuid(0));
        }

        rows.Reset();
        Assert.Equal([Id, Id, Id, Id, Id], read);

        rows.BindText(1, "[\"0192f0c5-3a1b-7c2d-8e4f-5a6b7c8d9e0g\"]"u8);
        Assert.True(rows.Step());
        Assert.Throws<FormatException>(() => rows.GetGuid(0));
        rows.Reset();
    }

    [Fact]
    public void Errors_AreSqliteExceptions()
    {
        Assert.Throws<SqliteException>(() => new SqliteRowReader(connection, "SELECT nothing FROM nowhere"));

        using var rows = new SqliteRowReader(connection, "SELECT value FROM json_each(?1)");
        rows.BindText(1, "not json"u8);
        Assert.Throws<SqliteException>(() => rows.Step());
        rows.Reset();
    }

    public void Dispose()
    {
        connection.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}
