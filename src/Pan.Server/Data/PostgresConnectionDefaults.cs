using System.Data.Common;
using Npgsql;

namespace Pan.Server.Data;

/// <summary>
/// Npgsql settings Pan applies to its PostgreSQL connection string unless the operator set them: automatic statement
/// preparation and no session reset when a pooled connection is returned. Measured with bench/ (BENCHMARKS.md): the
/// token check's PostgreSQL CPU per call fell by about two thirds, most of it parse/plan of the same few statements and
/// the reset statements Npgsql otherwise prepends to the next command of every pooled connection.
/// </summary>
public static class PostgresConnectionDefaults
{
    /// <summary>Statements prepared per physical connection (Npgsql's LRU); Pan's hot paths use a few dozen.</summary>
    public const int MaxAutoPrepare = 64;

    public static string Apply(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Has(given, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = MaxAutoPrepare;
            if (!Has(given, "Auto Prepare Min Usages", "AutoPrepareMinUsages"))
            {
                builder.AutoPrepareMinUsages = 2;
            }
        }

        // Why safe: Pan keeps no session state on a connection (no SET outside transactions, no LISTEN, no temporary
        // tables, no session advisory locks), so there is nothing for a reset to clear.
        if (!Has(given, "No Reset On Close", "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    private static bool Has(DbConnectionStringBuilder given, params string[] keys) =>
        keys.Any(k => given.Keys.Cast<string>().Any(g => string.Equals(g.Replace(" ", string.Empty, StringComparison.Ordinal), k.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)));
}
