using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Server.Data.Changes;

namespace Pan.Server.Data;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>Registers <see cref="PanDbContext"/> on the configured provider with its own migrations assembly.</summary>
    public static IServiceCollection AddPanDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>>(new ConnectionStringValidator(configuration));
        services.AddSingleton(sp => DataChangeFeedFor(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value, configuration));
        services.AddDbContextPool<PanDbContext>((sp, options) =>
        {
            var db = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            var connectionString = ConnectionString(configuration, db.Provider);
            Configure(options, db.Provider, connectionString, db.SqliteSynchronous);
            options.AddInterceptors(new ChangeCaptureInterceptor(
                sp.GetRequiredService<DataChangeFeed>(), db.IsPostgres ? null : SqliteChangeBus.KeyOf(connectionString)), Metrics.CommittedCounts.Instance);
        });
        services.AddHostedService<DatabaseMigrator>();
        services.AddHostedService<PostgresChangeListener>();
        return services;
    }

    /// <summary>
    /// Applies the provider and migrations assembly to a context options builder; on SQLite also the busy timeout and
    /// <paramref name="sqliteSynchronous"/> on every connection.
    /// </summary>
    public static void Configure(
        DbContextOptionsBuilder options, string provider, string connectionString, SqliteSynchronous sqliteSynchronous = SqliteSynchronous.Full)
    {
        // Why: aggregate queries of the form GroupBy(_ => 1).Select(counts).FirstOrDefault() have exactly one row;
        // EF's "First without OrderBy" warning would fill the logs for them.
        options.ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.FirstWithoutOrderByAndFilterWarning));
        // Why one array parameter for `ids.Contains(x)` (PostgreSQL = ANY(@ids), SQLite json_each(@ids)) instead of EF
        // Core 10's default of one parameter per element: the SQL is then the same for every list length, so EF Core
        // reuses it (and compiled queries may take arrays); with the default each call re-ran EF's SQL post-processing
        // under a shared lock, measured at about a quarter of ReadObject's server time (BENCHMARKS.md).
        if (provider == "postgres")
        {
            options.UseNpgsql(PostgresConnectionDefaults.Apply(connectionString), o => o
                .MigrationsAssembly("Pan.Migrations.Postgres")
                .UseParameterizedCollectionMode(ParameterTranslationMode.Parameter));
        }
        else
        {
            options.UseSqlite(connectionString, o => o
                    .MigrationsAssembly("Pan.Migrations.Sqlite")
                    .UseParameterizedCollectionMode(ParameterTranslationMode.Parameter))
                .AddInterceptors(SqliteBusyTimeout.Instance, SqliteSynchronousMode.For(sqliteSynchronous));
        }
    }

    /// <summary>
    /// SQLite: live at once, fed by every server of the process on the same file. PostgreSQL: live once
    /// <see cref="PostgresChangeListener"/> listens.
    /// </summary>
    private static DataChangeFeed DataChangeFeedFor(DatabaseOptions db, IConfiguration configuration)
    {
        var feed = new DataChangeFeed();
        if (!db.IsPostgres)
        {
            feed.Source = SqliteChangeBus.Subscribe(SqliteChangeBus.KeyOf(ConnectionString(configuration, db.Provider)), feed);
            feed.SetLive(true);
        }

        return feed;
    }

    public static string ConnectionString(IConfiguration configuration, string provider) =>
        configuration.GetConnectionString("Pan") is { Length: > 0 } cs
            ? cs
            : provider == "sqlite" ? "Data Source=./data/pan.db" : string.Empty;

    private sealed class ConnectionStringValidator(IConfiguration configuration) : IValidateOptions<DatabaseOptions>
    {
        public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
        {
            if (options.IsPostgres && string.IsNullOrWhiteSpace(configuration.GetConnectionString("Pan")))
            {
                return ValidateOptionsResult.Fail("ConnectionStrings:Pan is required when Pan:Database:Provider is 'postgres' (e.g. Host=127.0.0.1;Database=pan;Username=pan;Password=…).");
            }

            var connectionString = ConnectionString(configuration, options.Provider);
            if (Unreadable(connectionString, options.IsPostgres) is { } problem)
            {
                return ValidateOptionsResult.Fail($"ConnectionStrings:Pan {problem}");
            }

            return options.IsPostgres && new Npgsql.NpgsqlConnectionStringBuilder(connectionString).IncludeErrorDetail
                ? ValidateOptionsResult.Fail(IncludeErrorDetailRefused)
                : ValidateOptionsResult.Success;
        }

        /// <summary>
        /// Why refused rather than turned off: the operator asked for it, and a setting silently overridden is one they
        /// believe took effect. With it, PostgreSQL's error details — the values of a unique violation: a phone number, an
        /// email, a name — are put into exception messages, which reach the logs.
        /// </summary>
        private const string IncludeErrorDetailRefused =
            "ConnectionStrings:Pan sets Include Error Detail: Pan refuses it, since PostgreSQL's error details (the values a unique violation names: phone numbers, emails, names) would reach the logs; remove it or set it to false.";

        /// <summary>
        /// What the provider cannot read in the connection string, or null. Why each keyword is tried alone: the
        /// provider's own message may quote a value (a password), so the problem is named by its keyword only. Why a
        /// keyword neither provider knows is named by its place only: it may be a piece of a value, as when an unquoted
        /// password holds ';' (<c>Password=ab;cd=ef</c> reads as a keyword <c>cd</c>).
        /// </summary>
        private static string? Unreadable(string connectionString, bool postgres)
        {
            var given = new System.Data.Common.DbConnectionStringBuilder();
            try
            {
                given.ConnectionString = connectionString;
            }
            catch (ArgumentException)
            {
                return "is not a connection string (Keyword=value pairs separated by ';'; a value holding ';' is quoted: Password='a;b').";
            }

            var provider = postgres ? "PostgreSQL" : "SQLite";
            var place = 0;
            foreach (string keyword in given.Keys)
            {
                place++;
                System.Data.Common.DbConnectionStringBuilder builder = postgres ? new Npgsql.NpgsqlConnectionStringBuilder() : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder();
                try
                {
                    builder[keyword] = given[keyword];
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException or KeyNotFoundException)
                {
                    if (IsKnownKeyword(keyword))
                    {
                        return builder.ContainsKey(keyword)
                            ? $"has a value {provider} cannot read for '{keyword}'."
                            : $"has a keyword {provider} does not support: '{keyword}'.";
                    }

                    return $"has a keyword {provider} does not support in its {Ordinal(place)} Keyword=value pair (not named: it may be a piece of a value; a value holding ';' is quoted: Password='a;b').";
                }
            }

            return null;
        }

        /// <summary>Whether <paramref name="keyword"/> is one of either provider's own keywords (a word of theirs, never a piece of a value).</summary>
        private static bool IsKnownKeyword(string keyword) =>
            new Npgsql.NpgsqlConnectionStringBuilder().ContainsKey(keyword) || new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder().ContainsKey(keyword);

        private static string Ordinal(int n) => (n % 100) switch
        {
            11 or 12 or 13 => $"{n}th",
            _ => (n % 10) switch { 1 => $"{n}st", 2 => $"{n}nd", 3 => $"{n}rd", _ => $"{n}th" },
        };
    }
}
