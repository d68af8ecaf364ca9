using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;

namespace Pan.Tests.Infrastructure;

/// <summary>The statement a <see cref="FailureTriggers"/> trigger fires on.</summary>
public enum TriggeredWrite
{
    Insert,
    Update,
    Delete,
}

/// <summary>
/// Makes one kind of write to one table fail (or silently do nothing) on the real database, on cue: a BEFORE trigger
/// (PostgreSQL: a plpgsql function that raises or returns NULL; SQLite: <c>RAISE(ABORT)</c> or <c>RAISE(IGNORE)</c>),
/// optionally only for rows matching a condition. Disposing the returned handle drops it.
/// </summary>
/// <remarks>
/// Why a trigger and not a fake: the operation under test runs unchanged against the real provider, so its transaction,
/// EF Core's error handling and Pan's error mapping are the ones production has. A "fail" trigger is an error that is
/// neither a constraint violation nor an outage (PostgreSQL SQLSTATE P0001; SQLite SQLITE_CONSTRAINT_TRIGGER, 1811). A
/// "skip" trigger makes the statement write 0 rows, exactly what EF Core sees when another writer changed the row's
/// version or deleted it. Row triggers fire only for rows the statement touches: a statement matching no row is not
/// refused.
/// </remarks>
public static class FailureTriggers
{
    /// <summary>The message the database answers with; tests may look for it (it must never reach a caller).</summary>
    public const string Message = "refused by a test trigger";

    /// <summary>Fails every <paramref name="write"/> on <paramref name="table"/> (of rows matching <paramref name="when"/>).</summary>
    /// <param name="when">An SQL condition valid on both providers over <c>NEW</c> (insert) or <c>OLD</c> (update, delete); null: every row.</param>
    public static Task<IAsyncDisposable> FailAsync(PanServer server, ITestDatabase database, string table, TriggeredWrite write, string? when = null) =>
        InstallAsync(server, database, table, write, when, fail: true);

    /// <summary>Fails <paramref name="write"/> on <paramref name="table"/> for the rows of member <paramref name="uid"/> (a <c>uid</c> column).</summary>
    public static Task<IAsyncDisposable> FailAsync(PanServer server, ITestDatabase database, string table, TriggeredWrite write, long uid) =>
        InstallAsync(server, database, table, write, UidIs(write, uid), fail: true);

    /// <summary>Makes <paramref name="write"/> on <paramref name="table"/> write nothing for the rows of member <paramref name="uid"/>.</summary>
    public static Task<IAsyncDisposable> SkipAsync(PanServer server, ITestDatabase database, string table, TriggeredWrite write, long uid) =>
        InstallAsync(server, database, table, write, UidIs(write, uid), fail: false);

    /// <summary>The condition "the row's uid is <paramref name="uid"/>" for a trigger on <paramref name="write"/>.</summary>
    public static string UidIs(TriggeredWrite write, long uid) =>
        $"{(write == TriggeredWrite.Insert ? "NEW" : "OLD")}.uid = {uid.ToString(CultureInfo.InvariantCulture)}";

    private static async Task<IAsyncDisposable> InstallAsync(
        PanServer server, ITestDatabase database, string table, TriggeredWrite write, string? when, bool fail)
    {
        // Why short: PostgreSQL cuts identifiers at 63 bytes.
        var name = $"test_{write.ToString().ToLowerInvariant()}_{table}_{Guid.NewGuid().ToString("N")[..12]}";
        var statement = write.ToString().ToUpperInvariant();
        string[] create = database.Provider == "postgres"
            ?
            [
                $"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
                (fail ? $"RAISE EXCEPTION '{Message}'; " : "RETURN NULL; ") + "END $$",
                $"CREATE TRIGGER {name} BEFORE {statement} ON {table} FOR EACH ROW " +
                (when is null ? string.Empty : $"WHEN ({when}) ") + $"EXECUTE FUNCTION {name}()",
            ]
            :
            [
                $"CREATE TRIGGER {name} BEFORE {statement} ON {table} " + (when is null ? string.Empty : $"WHEN {when} ") +
                "BEGIN SELECT RAISE(" + (fail ? $"ABORT, '{Message}'" : "IGNORE") + "); END",
            ];
        string[] drop = database.Provider == "postgres"
            ? [$"DROP TRIGGER {name} ON {table}", $"DROP FUNCTION {name}()"]
            : [$"DROP TRIGGER {name}"];
        await ExecuteAsync(server, create);
        return new Dropper(() => ExecuteAsync(server, drop));
    }

    private static async Task ExecuteAsync(PanServer server, string[] statements)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        foreach (var sql in statements)
        {
            await db.Database.ExecuteSqlRawAsync(sql);
        }
    }

    private sealed class Dropper(Func<Task> drop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await drop();
    }
}
