using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Data;

/// <summary>How hard SQLite pushes each commit to the disk (<c>PRAGMA synchronous</c>); Pan's SQLite files are in WAL mode.</summary>
public enum SqliteSynchronous
{
    /// <summary>
    /// Every commit waits for the write-ahead log to reach the disk (fsync): a commit survives a power loss or an
    /// operating-system crash.
    /// </summary>
    Full,

    /// <summary>
    /// Commits do not fsync; the log is synced at checkpoints. The database stays consistent (SQLite's recommended
    /// setting for WAL), and a commit survives a crash of Pan itself, but the last commits before a power loss or an
    /// operating-system crash may be rolled back — including sign-ins, accepted codes, logouts and revocations.
    /// </summary>
    Normal,
}

/// <summary><c>Pan:Database:*</c>. The connection string itself is <c>ConnectionStrings:Pan</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Pan:Database";

    /// <summary><c>sqlite</c> (default, embedded) or <c>postgres</c> (production).</summary>
    [Required]
    [RegularExpression("^(sqlite|postgres)$", ErrorMessage = "Pan:Database:Provider must be 'sqlite' or 'postgres'.")]
    public string Provider { get; set; } = "sqlite";

    /// <summary>Apply pending migrations when the server starts (default true). Operators may run <c>Pan.Server migrate</c> instead.</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>
    /// SQLite only: <c>Full</c> (default; every commit is fsynced and survives a power loss) or <c>Normal</c> (no
    /// fsync per commit — cheaper writes, still consistent, but the last commits may be lost on a power loss or an
    /// operating-system crash, never on a crash of Pan alone). Applied to every connection Pan opens.
    /// </summary>
    [EnumDataType(typeof(SqliteSynchronous), ErrorMessage = "Pan:Database:SqliteSynchronous must be 'Full' or 'Normal'.")]
    public SqliteSynchronous SqliteSynchronous { get; set; } = SqliteSynchronous.Full;

    public bool IsPostgres => Provider == "postgres";
}
