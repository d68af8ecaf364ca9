using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Pan.Server.Data;

/// <summary>
/// One statement prepared once on an open SQLite connection and stepped through the C API directly, for a hot read that
/// runs many times per second and reads a dozen columns from each of its rows.
/// </summary>
/// <remarks>
/// Why not <see cref="SqliteDataReader"/>: it makes two or three native calls per column (the type, then the value,
/// with a null check in front of each), and every one goes through SQLitePCLRaw's provider and a SafeHandle that is
/// reference-counted on each call. On ReadObject over a million members that bookkeeping was a visible part of the
/// server's time (BENCHMARKS.md change 31). Here a column is one or two calls on the raw statement pointer. The
/// connection is opened, configured and closed by its owner (<see cref="SqliteReadConnection"/> or a
/// <see cref="SqliteConnection"/>); this class owns only the statement, which it finalizes before the connection closes.
/// Not thread-safe: one caller at a time, like the connection.
/// </remarks>
internal sealed class SqliteRowReader : IDisposable
{
    private const int SqliteOk = 0, SqliteRow = 100, SqliteDone = 101, SqliteNull = 5, SqliteBlob = 4;
    private const uint PreparePersistent = 0x01;

    // Why: SQLITE_TRANSIENT, SQLite copies the bound bytes before sqlite3_bind_text returns.
    private static readonly IntPtr Transient = new(-1);

    // The length of a GUID in the "D" form, as EF Core stores it on SQLite.
    private const int GuidTextLength = 36;

    private readonly sqlite3 handle;
    private readonly byte[] guidText = new byte[GuidTextLength];
    private IntPtr statement;

    /// <summary>Prepares <paramref name="sql"/> (one statement) on <paramref name="connection"/>, which must stay open while this lives.</summary>
    public SqliteRowReader(SqliteConnection connection, string sql)
        : this(connection.Handle ?? throw new InvalidOperationException("The SQLite connection is not open."), sql)
    {
    }

    /// <summary>Prepares <paramref name="sql"/> (one statement) on an open native connection, which must stay open while this lives.</summary>
    public SqliteRowReader(sqlite3 handle, string sql)
    {
        this.handle = handle;
        var text = Encoding.UTF8.GetBytes(sql);
        var rc = sqlite3_prepare_v3(handle.DangerousGetHandle(), text, text.Length, PreparePersistent, out statement, IntPtr.Zero);
        if (rc != SqliteOk)
        {
            SqliteException.ThrowExceptionForRC(rc, handle);
        }
    }

    /// <summary>Binds UTF-8 text to the 1-based parameter <paramref name="index"/>; SQLite keeps its own copy.</summary>
    public void BindText(int index, ReadOnlySpan<byte> utf8)
    {
        Check(sqlite3_bind_text(statement, index, in MemoryMarshal.GetReference(utf8), utf8.Length, Transient));
    }

    /// <summary>Moves to the next row: true on a row, false when the statement is done. Errors throw <see cref="SqliteException"/>.</summary>
    public bool Step()
    {
        var rc = sqlite3_step(statement);
        if (rc == SqliteRow)
        {
            return true;
        }

        if (rc != SqliteDone)
        {
            Check(rc);
        }

        return false;
    }

    /// <summary>Ends the current execution (releasing its read transaction) so the statement can run again.</summary>
    /// <remarks>sqlite3_reset repeats the error of a failed step, which <see cref="Step"/> has already thrown.</remarks>
    public void Reset() => _ = sqlite3_reset(statement);

    /// <summary>An integer column; NULL reads as 0, so use it only for NOT NULL columns (or see <see cref="GetNullableInt64"/>).</summary>
    public long GetInt64(int ordinal) => sqlite3_column_int64(statement, ordinal);

    public long? GetNullableInt64(int ordinal)
    {
        var value = sqlite3_column_int64(statement, ordinal);
        return value == 0 && sqlite3_column_type(statement, ordinal) == SqliteNull ? null : value;
    }

    /// <summary>A text column as a string; NULL as null.</summary>
    public string? GetString(int ordinal)
    {
        var text = sqlite3_column_text(statement, ordinal);
        return text == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(text, sqlite3_column_bytes(statement, ordinal));
    }

    /// <summary>A GUID stored as text (EF Core's default on SQLite) or as a 16-byte blob.</summary>
    public Guid GetGuid(int ordinal)
    {
        if (sqlite3_column_type(statement, ordinal) == SqliteBlob)
        {
            var blob = sqlite3_column_blob(statement, ordinal);
            var bytes = new byte[sqlite3_column_bytes(statement, ordinal)];
            Marshal.Copy(blob, bytes, 0, bytes.Length);
            return new Guid(bytes);
        }

        // Why from the UTF-8 bytes: the form EF Core writes ("D", 36 characters) is parsed without decoding it into a
        // string first; anything else goes through Guid.Parse as before.
        var text = sqlite3_column_text(statement, ordinal);
        if (text != IntPtr.Zero && sqlite3_column_bytes(statement, ordinal) == GuidTextLength)
        {
            Marshal.Copy(text, guidText, 0, GuidTextLength);
            if (Utf8Parser.TryParse(guidText, out Guid value, out var consumed, 'D') && consumed == GuidTextLength)
            {
                return value;
            }
        }

        return Guid.Parse(GetString(ordinal) ?? throw new InvalidCastException($"Column {ordinal} is NULL, not a GUID."));
    }

    public void Dispose()
    {
        if (statement != IntPtr.Zero)
        {
            // Why the result is dropped: finalize repeats the last step's error, already reported by Step.
            _ = sqlite3_finalize(statement);
            statement = IntPtr.Zero;
        }
    }

    private void Check(int rc)
    {
        if (rc != SqliteOk)
        {
            SqliteException.ThrowExceptionForRC(rc, handle);
        }
    }

    // The e_sqlite3 library SQLitePCLRaw loads (see SqliteBusyTimeout for the same import).
    private const string Library = "e_sqlite3";

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_prepare_v3(IntPtr db, byte[] sql, int bytes, uint flags, out IntPtr statement, IntPtr tail);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_bind_text(IntPtr statement, int index, in byte text, int bytes, IntPtr destructor);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_step(IntPtr statement);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_reset(IntPtr statement);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_finalize(IntPtr statement);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern long sqlite3_column_int64(IntPtr statement, int ordinal);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_column_type(IntPtr statement, int ordinal);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern IntPtr sqlite3_column_text(IntPtr statement, int ordinal);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern IntPtr sqlite3_column_blob(IntPtr statement, int ordinal);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_column_bytes(IntPtr statement, int ordinal);
}
