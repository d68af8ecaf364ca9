using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Pan.Data;

namespace Pan.Tests.Foundation;

/// <summary>
/// Rules for PostgreSQL migrations that a deployment relies on and a behaviour test on an empty database cannot see.
/// </summary>
public sealed class PostgresMigrationRulesTests
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
        var generator = db.GetService<IMigrationsSqlGenerator>();

        var tables = new HashSet<string>(StringComparer.Ordinal);
        var plain = new List<string>();
        var late = new List<string>();
        foreach (var (id, type) in assembly.Migrations.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var migration = assembly.CreateMigration(type, provider);
            var operations = migration.UpOperations;
            var createdHere = operations.OfType<CreateTableOperation>().Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            var addedHere = operations.OfType<AddColumnOperation>().Select(c => (c.Table, c.Name)).ToHashSet();
            var concurrentSoFar = true;
            foreach (var operation in operations)
            {
                var concurrent = operation is CreateIndexOperation built && built["Npgsql:CreatedConcurrently"] is true;
                if (concurrent && !concurrentSoFar)
                {
                    late.Add($"{id}: {((CreateIndexOperation)operation).Name}");
                }

                if (concurrent)
                {
                    var command = Assert.Single(generator.Generate([operation]));
                    Assert.Contains("CREATE INDEX CONCURRENTLY", command.CommandText, StringComparison.Ordinal);
                    Assert.True(command.TransactionSuppressed, $"{id}: a concurrent build must run outside the transaction");
                }

                concurrentSoFar &= concurrent;
                if (operation is not CreateIndexOperation index)
                {
                    continue;
                }

                var existing = tables.Contains(index.Table) && !createdHere.Contains(index.Table)
                    && !index.Columns.All(c => addedHere.Contains((index.Table, c)));
                if (existing && !concurrent && !PlainBuildsAllowed.Contains(index.Name))
                {
                    plain.Add($"{id}: {index.Name} on {index.Table}");
                }
            }

            tables.UnionWith(createdHere);
        }

        Assert.NotEmpty(tables);
        Assert.Empty(plain);
        Assert.Empty(late);
    }
}
