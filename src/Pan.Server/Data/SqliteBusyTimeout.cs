using System.Data.Common;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Pan.Server.Data;

/// <summary>
/// Makes every connection EF Core opens wait for SQLite's write lock itself, for up to <see cref="Milliseconds"/>,
/// retrying with short waits: a thread yield for the first retries, then 1 ms sleeps.
/// </summary>
/// <remarks>
/// Why a wait at all: without one SQLite answers SQLITE_BUSY at once when another connection is writing, and
/// Microsoft.Data.Sqlite then blocks the calling thread-pool thread in <c>Thread.Sleep(150)</c> before retrying; under
/// concurrent sign-ins every write queued behind those sleeps (seconds at p99) and the blocked threads starved the pool.
/// Why not <c>sqlite3_busy_timeout</c>: its handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between
/// tries while a write holds the lock for under a millisecond, so a waiter that has lost a few rounds sleeps through
/// many releases; that set the p99 of the phone flows (BENCHMARKS.md change 29). SQLitePCLRaw wraps only the timeout,
/// hence the direct import of <c>sqlite3_busy_handler</c> from the e_sqlite3 library it loads. The setting belongs to
/// the native connection, which the pool reuses, so it is applied on each open (a single native call).
/// </remarks>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    /// <summary>How long one statement waits for the write lock before SQLite reports BUSY.</summary>
    public const int Milliseconds = 5_000;

    /// <summary>Retries that only yield the thread before the handler starts sleeping 1 ms per retry.</summary>
    private const int YieldingRetries = 10;

    public static readonly SqliteBusyTimeout Instance = new();

    // Why static: native code keeps the function pointer, so the delegate must live as long as the process.
    private static readonly BusyHandler OnBusyDelegate = OnBusy;
    private static readonly IntPtr OnBusyPointer = Marshal.GetFunctionPointerForDelegate(OnBusyDelegate);

    /// <summary>When the current wait began; the handler runs on the thread that is waiting.</summary>
    [ThreadStatic]
    private static long waitingSince;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int BusyHandler(IntPtr state, int retries);

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    /// <summary>Installs the busy handler on an open SQLite connection (no-op for other providers).</summary>
    internal static void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            Apply(handle);
        }
    }

    /// <summary>Installs the busy handler on an open native SQLite connection.</summary>
    internal static void Apply(SQLitePCL.sqlite3 handle) =>
        SqliteException.ThrowExceptionForRC(sqlite3_busy_handler(handle.DangerousGetHandle(), OnBusyPointer, IntPtr.Zero), handle);

    /// <summary>SQLite's busy callback: non-zero to try again, zero to give up with SQLITE_BUSY. Allocates nothing.</summary>
    private static int OnBusy(IntPtr state, int retries)
    {
        if (retries == 0)
        {
            waitingSince = Stopwatch.GetTimestamp();
        }
        else if (Stopwatch.GetElapsedTime(waitingSince).TotalMilliseconds >= Milliseconds)
        {
            return 0;
        }

        if (retries < YieldingRetries)
        {
            Thread.Yield();
        }
        else
        {
            Thread.Sleep(1);
        }

        return 1;
    }

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_busy_handler(IntPtr db, IntPtr handler, IntPtr state);
}
