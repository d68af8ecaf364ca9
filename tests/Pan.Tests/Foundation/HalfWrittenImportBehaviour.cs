using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Pan.Data.Accounts;
using Pan.Data.Imports;
using Pan.Tests.Admin;
using Pan.Tests.Cli;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21 for the operator's member import (<c>pan members import</c>): a batch is one transaction. Its LAST write
/// (the legacy password hashes) is made to fail on the real database (<see cref="FailureTriggers"/>): no account,
/// member or import-map entry of the batch is left and the existing account it joined keeps its version, so the
/// re-run of the same file imports every row.
/// </summary>
public abstract class HalfWrittenImportBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AdminFixture
{
    [Fact]
    public async Task Import_WhenStoringThePasswordHashesFails_LeavesNothingOfTheBatch_AndTheRerunImportsEveryRow()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var n = Random.Shared.Next(1_000_000, 9_999_999).ToString(CultureInfo.InvariantCulture);
        var existing = await TestMembers.CreateAsync(fixture.Server);
        var existingPhone = await DbAsync(db => db.Set<Account>().Where(a => a.Id == existing.AccountId).Select(a => a.PhoneE164).SingleAsync());
        var version = await VersionAsync(existing.AccountId);
        using var files = new ImportFiles();
        var file = files.Write("half.jsonl",
        [
            $$"""{"legacy_id":"hw{{tag}}1","migration_status":2,"display_name":"Y{{tag}}","phone":"+88691{{n}}","password_hash":"md5md5$a1b2c3$0123456789abcdef0123456789abcdef"}""",
            $$"""{"legacy_id":"hw{{tag}}2","migration_status":2,"display_name":"Z{{tag}}","phone":"{{existingPhone}}"}""",
            $$"""{"legacy_id":"hw{{tag}}3","migration_status":2,"display_name":"Q{{tag}}"}""",
        ]);
        var source = await DbAsync(db => db.Set<ImportMapEntry>().CountAsync());
        var members = await DbAsync(db => db.Members.CountAsync());

        // The last write of the batch: the password hashes (after the accounts, the members, the import map and the
        // version bump of the existing account the second row joins).
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "member_credentials", TriggeredWrite.Insert))
        {
            // An operator sees why it stopped and that a re-run finishes the job, not an unhandled exception.
            var failed = await PanCli.RunAsync(fixture.Database, "members", "import", file);
            Assert.Equal(1, failed.ExitCode);
            Assert.Contains("the database refused a write", failed.Error, StringComparison.Ordinal);
            Assert.Contains("run the same command again", failed.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("refused by a test trigger", failed.Error + failed.Output, StringComparison.Ordinal);
        }

        Assert.Equal(source, await DbAsync(db => db.Set<ImportMapEntry>().CountAsync()));
        Assert.Equal(members, await DbAsync(db => db.Members.CountAsync()));
        Assert.False(await DbAsync(db => db.Set<Account>().AnyAsync(a => a.PhoneE164 == "+88691" + n)));
        Assert.Equal(version, await VersionAsync(existing.AccountId));

        var run = await PanCli.RunAsync(fixture.Database, "members", "import", file);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("read 3, imported 3, already imported 0, bad 0", run.Output, StringComparison.Ordinal);
        Assert.Equal(2, await DbAsync(db => db.Members.CountAsync(m => m.AccountId == existing.AccountId)));
    }

    private Task<long> VersionAsync(long accountId) =>
        DbAsync(db => db.Set<Account>().Where(a => a.Id == accountId).Select(a => a.Version).SingleAsync());

    private Task<T> DbAsync<T>(Func<Pan.Data.PanDbContext, Task<T>> query) => TestMembers.WithDbAsync(fixture.Server, query);
}

public sealed class HalfWrittenImportBehaviour_Sqlite(SqliteAdminFixture f) : HalfWrittenImportBehaviour<SqliteAdminFixture>(f);

public sealed class HalfWrittenImportBehaviour_Postgres(PostgresAdminFixture f) : HalfWrittenImportBehaviour<PostgresAdminFixture>(f);
