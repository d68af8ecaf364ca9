using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Data;

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

    public bool IsPostgres => Provider == "postgres";
}
