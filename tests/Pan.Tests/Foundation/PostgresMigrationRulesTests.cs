using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Pan.Data;

namespace Pan.Tests.Foundation;

/// <summary>
/// Rules for PostgreSQL migrations that a deployment relies on and a behaviour test on an empty database cannot see.
/// </summary>
public sealed partial class PostgresMigrationRulesTests
{
    /// <summary>
    /// Indexes that replace a unique index of the same name: building the new one concurrently would leave the table
    /// without its uniqueness between the drop and the build. Each was added before Pan's first release.
    /// </summary>
    private static readonly HashSet<string> PlainBuildsAllowed = new(StringComparer.Ordinal)
    {
        "ux_members_email_key",
    };

    /// <summary>
    /// A plain <c>CREATE INDEX</c> holds a lock that blocks every write to its table until the index is built, which on
    /// a table that already has a deployment's rows (members, tokens) stops sign-ins for as long as the build takes.
    /// An index added to a table an earlier migration made is therefore built <c>CONCURRENTLY</c> (outside the
    /// migration's transaction); an index of a table the same migration creates, or of columns it adds (empty until
    /// then), is built with it. Concurrent builds come before the migration's other steps, so that a build that fails
    /// leaves only its own index behind (drop it and start again) and never steps committed without the migration
    /// being recorded.
    /// </summary>
    [Fact]
    public void AnIndexAddedToATableOfAnEarlierMigration_IsBuiltConcurrently()
    {
        var options = new DbContextOptionsBuilder<PanDbContext>()
            .UseNpgsql("Host=unused", o => o.MigrationsAssembly("Pan.Migrations.Postgres"))
            .Options;
        using var db = new PanDbContext(options);
        var assembly = db.GetService<IMigrationsAssembly>();
        var provider = db.Database.ProviderName!;
        var migrations = assembly.Migrations.OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => (m.Key, (IReadOnlyList<MigrationOperation>)assembly.CreateMigration(m.Value, provider).UpOperations))
            .ToList();

        var (tables, violations) = Check(migrations, db.GetService<IMigrationsSqlGenerator>());

        Assert.NotEmpty(tables);
        Assert.Empty(violations);
    }

    /// <summary>
    /// The rule sees what EF Core's operations do not say: an index built by raw SQL (<c>migrationBuilder.Sql</c>), a
    /// unique constraint or primary key added to a table with rows (which builds its index under a lock that blocks
    /// reads too), an index of a renamed table; and takes a concurrent unique index as concurrent.
    /// </summary>
    [Fact]
    public void TheRule_SeesPlainBuildsInRawSqlAndConstraints_AndTakesConcurrentUniqueIndexes()
    {
        using var db = new PanDbContext(new DbContextOptionsBuilder<PanDbContext>().UseNpgsql("Host=unused").Options);
        var generator = db.GetService<IMigrationsSqlGenerator>();
        var first = ("1_First", (IReadOnlyList<MigrationOperation>)
        [
            new CreateTableOperation { Name = "members", Columns = { new AddColumnOperation { Name = "uid", Table = "members", ClrType = typeof(long) } } },
            new CreateTableOperation { Name = "sessions", Columns = { new AddColumnOperation { Name = "id", Table = "sessions", ClrType = typeof(long) } } },
        ]);
        MigrationOperation Concurrent(string name, string table, bool unique = false)
        {
            var index = new CreateIndexOperation { Name = name, Table = table, Columns = ["uid"], IsUnique = unique };
            index.AddAnnotation("Npgsql:CreatedConcurrently", true);
            return index;
        }

        var cases = new (string Why, MigrationOperation Operation, bool Refused)[]
        {
            ("raw plain", new SqlOperation { Sql = "CREATE INDEX ix_members_x ON members (uid);" }, true),
            ("raw plain unique, quoted", new SqlOperation { Sql = "create unique index if not exists \"ux_m\" on \"public\".\"members\" (uid);" }, true),
            ("raw concurrent", new SqlOperation { Sql = "CREATE INDEX CONCURRENTLY ix_members_y ON members (uid);", SuppressTransaction = true }, false),
            ("raw concurrent in the transaction", new SqlOperation { Sql = "CREATE INDEX CONCURRENTLY ix_members_z ON members (uid);" }, true),
            ("unique constraint", new AddUniqueConstraintOperation { Name = "uq_members_uid", Table = "members", Columns = ["uid"] }, true),
            ("raw unique constraint", new SqlOperation { Sql = "ALTER TABLE members ADD CONSTRAINT uq_members_uid UNIQUE (uid);" }, true),
            ("raw constraint from a concurrent index", new SqlOperation { Sql = "ALTER TABLE members ADD CONSTRAINT uq_members_uid UNIQUE USING INDEX ux_members_uid;" }, false),
            ("primary key", new AddPrimaryKeyOperation { Name = "pk_sessions", Table = "sessions", Columns = ["id"] }, true),
            ("concurrent unique", Concurrent("ux_members_uid", "members", unique: true), false),
        };

        foreach (var (why, operation, refused) in cases)
        {
            var (_, violations) = Check([first, ("2_Second", [operation])], generator);
            Assert.True(refused == violations.Count > 0, $"{why}: [{string.Join("; ", violations)}]");
        }

        var renamed = Check(
            [first, ("2_Rename", [new RenameTableOperation { Name = "sessions", NewName = "auth_sessions" }]),
             ("3_Index", [new CreateIndexOperation { Name = "ix_auth_sessions_uid", Table = "auth_sessions", Columns = ["uid"] }])],
            generator);
        Assert.NotEmpty(renamed.Violations);
        var createdByRawSql = Check(
            [("1_Raw", [new SqlOperation { Sql = "CREATE TABLE IF NOT EXISTS \"audit\" (id bigint);" }]),
             ("2_Index", [new SqlOperation { Sql = "CREATE INDEX ix_audit_id ON audit (id);" }])],
            generator);
        Assert.NotEmpty(createdByRawSql.Violations);
    }

    /// <summary>The tables the migrations made and every breach of the rules above.</summary>
    private static (HashSet<string> Tables, List<string> Violations) Check(
        IEnumerable<(string Id, IReadOnlyList<MigrationOperation> Operations)> migrations, IMigrationsSqlGenerator generator)
    {
        var tables = new HashSet<string>(StringComparer.Ordinal);
        var violations = new List<string>();
        foreach (var (id, operations) in migrations)
        {
            var createdHere = operations.OfType<CreateTableOperation>().Select(t => t.Name)
                .Concat(operations.OfType<SqlOperation>().SelectMany(s => RawCreateTable().Matches(s.Sql).Select(m => Unquote(m.Groups["table"].Value))))
                .ToHashSet(StringComparer.Ordinal);
            var addedHere = operations.OfType<AddColumnOperation>().Select(c => (c.Table, c.Name)).ToHashSet();
            bool Existing(string table) => tables.Contains(table) && !createdHere.Contains(table);
            var concurrentSoFar = true;
            foreach (var operation in operations)
            {
                var concurrent = false;
                switch (operation)
                {
                    case CreateIndexOperation index:
                        concurrent = index["Npgsql:CreatedConcurrently"] is true;
                        if (concurrent)
                        {
                            var command = Assert.Single(generator.Generate([operation]));
                            if (!ConcurrentBuild().IsMatch(command.CommandText) || !command.TransactionSuppressed)
                            {
                                violations.Add($"{id}: {index.Name} must be built CONCURRENTLY outside the transaction");
                            }
                        }
                        else if (Existing(index.Table) && !index.Columns.All(c => addedHere.Contains((index.Table, c))) && !PlainBuildsAllowed.Contains(index.Name))
                        {
                            violations.Add($"{id}: {index.Name} on {index.Table} is a plain build");
                        }

                        break;
                    case AddUniqueConstraintOperation unique when Existing(unique.Table):
                        violations.Add($"{id}: unique constraint {unique.Name} on {unique.Table} builds its index under a lock (build a unique index CONCURRENTLY, then ADD CONSTRAINT … USING INDEX)");
                        break;
                    case AddPrimaryKeyOperation key when Existing(key.Table):
                        violations.Add($"{id}: primary key {key.Name} on {key.Table} builds its index under a lock");
                        break;
                    case RenameTableOperation rename when rename.NewName is { } newName && tables.Remove(rename.Name):
                        tables.Add(newName);
                        break;
                    case SqlOperation sql:
                        foreach (Match build in RawIndex().Matches(sql.Sql))
                        {
                            var table = Unquote(build.Groups["table"].Value);
                            if (build.Groups["concurrently"].Success)
                            {
                                concurrent = true;
                                if (!sql.SuppressTransaction)
                                {
                                    violations.Add($"{id}: a raw CONCURRENTLY build must suppress the migration's transaction");
                                }
                            }
                            else if (!createdHere.Contains(table) && !PlainBuildsAllowed.Contains(Unquote(build.Groups["name"].Value)))
                            {
                                // Why any table not made here: raw SQL may name a table the operations never did.
                                violations.Add($"{id}: raw plain index build on {table}");
                            }
                        }

                        foreach (Match constraint in RawConstraint().Matches(sql.Sql))
                        {
                            if (!createdHere.Contains(Unquote(constraint.Groups["table"].Value)))
                            {
                                violations.Add($"{id}: raw unique/primary/exclusion constraint on {constraint.Groups["table"].Value} builds its index under a lock");
                            }
                        }

                        break;
                }

                if (concurrent && !concurrentSoFar)
                {
                    violations.Add($"{id}: concurrent build after another step");
                }

                concurrentSoFar &= concurrent;
            }

            tables.UnionWith(createdHere);
        }

        return (tables, violations);
    }

    /// <summary>The table name without quotes or schema.</summary>
    private static string Unquote(string name) => name.Trim().Split('.')[^1].Trim('"');

    [GeneratedRegex(@"^CREATE (UNIQUE )?INDEX CONCURRENTLY ", RegexOptions.CultureInvariant)]
    private static partial Regex ConcurrentBuild();

    [GeneratedRegex(@"\bCREATE\s+(UNIQUE\s+)?INDEX\s+(?<concurrently>CONCURRENTLY\s+)?(IF\s+NOT\s+EXISTS\s+)?(?<name>""?\w+""?\s+)?ON\s+(ONLY\s+)?(?<table>(""?\w+""?\.)?""?\w+""?)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RawIndex();

    [GeneratedRegex(@"\bALTER\s+TABLE\s+(IF\s+EXISTS\s+)?(ONLY\s+)?(?<table>(""?\w+""?\.)?""?\w+""?)\s+ADD\s+(CONSTRAINT\s+""?\w+""?\s+)?(UNIQUE|PRIMARY\s+KEY|EXCLUDE)\b(?!\s+USING\s+INDEX)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RawConstraint();

    [GeneratedRegex(@"\bCREATE\s+(UNLOGGED\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(?<table>(""?\w+""?\.)?""?\w+""?)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RawCreateTable();
}
