using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Imports;
using Pan.Server.Members;
using Pan.Tests.Admin;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Xunit.Abstractions;
using Member = Pan.Data.Members.Member;

namespace Pan.Tests.Cli;

/// <summary><c>members import</c>: validation and bad-row reports, phone grouping, renames, idempotent re-runs, speed.</summary>
public abstract class MemberImportBehaviour<TFixture>(TFixture fixture, ITestOutputHelper output) : IClassFixture<TFixture>
    where TFixture : AdminFixture
{
    [Fact]
    public async Task Import_ReportsEveryBadRowByLineAndImportsTheRest_AndARerunChangesNothing()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var n = Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        var existingPhone = "+88693" + Random.Shared.Next(1_000_000, 9_999_999).ToString(CultureInfo.InvariantCulture);
        var existingEmail = $"pan{tag}@example.com";
        var existing = await CreateMemberAsync(existingPhone, existingEmail);
        using var files = new ImportFiles();
        var file = files.Write("legacy.jsonl",
        [
            $$"""{"legacy_id":"1","migration_status":2,"display_name":"A{{tag}}","username":"u{{tag}}a","email":"a{{tag}}@example.com","phone":"+886912{{n}}","created":"2015-03-04T05:06:07Z"}""",
            $$"""{"legacy_id":"2","migration_status":"OLD_JKF","display_name":"B{{tag}}","phone":"0912{{n}}","country":"886"}""",
            $$"""{"legacy_id":"3","migration_status":3,"display_name":"C{{tag}}","phone":"+886912{{n}}"}""",
            $$"""{"legacy_id":"4","migration_status":2,"display_name":"D{{tag}}","phone":"+886912{{n}}"}""",
            $$"""{"legacy_id":"5","migration_status":2,"display_name":"E{{tag}}"}""",
            $$"""{"legacy_id":"6","migration_status":2,"display_name":"a{{tag}}"}""",
            $$"""{"legacy_id":"1","migration_status":2,"display_name":"F{{tag}}"}""",
            $$"""{"legacy_id":1,"migration_status":3,"display_name":"G{{tag}}"}""",
            $$"""{"migration_status":2,"display_name":"H{{tag}}"}""",
            $$"""{"legacy_id":"10","migration_status":5,"display_name":"I{{tag}}"}""",
            $$"""{"legacy_id":"11","migration_status":2,"display_name":"x"}""",
            $$"""{"legacy_id":"12","migration_status":2,"display_name":"J{{tag}}","email":"nope"}""",
            $$"""{"legacy_id":"13","migration_status":2,"display_name":"K{{tag}}","email":"A{{tag}}@EXAMPLE.com"}""",
            $$"""{"legacy_id":"14","migration_status":2,"display_name":"L{{tag}}","username":"u{{tag}}a"}""",
            $$"""{"legacy_id":"15","migration_status":2,"display_name":"M{{tag}}","phone":"12345"}""",
            $$"""{"legacy_id":"16","migration_status":2,"display_name":"N{{tag}}","phone":"+886123"}""",
            $$"""{"legacy_id":"17","migration_status":2,"display_name":"O{{tag}}","password_hash":"sha1$abc"}""",
            $$"""{"legacy_id":"18","migration_status":2,"display_name":"P{{tag}}","created":"yesterday"}""",
            """not json {""",
            "",
            $$"""{"legacy_id":"21","migration_status":2,"display_name":"Q{{tag}}","email":"{{existingEmail.ToUpperInvariant()}}"}""",
            $$"""{"legacy_id":"22","migration_status":2,"display_name":"R{{tag}}","phone":"{{existingPhone}}"}""",
        ]);
        var membersBefore = await CountAsync(db => db.Members.CountAsync());

        var run = await PanCli.RunAsync(fixture.Database, "members", "import", file, "--Pan:Members:MaxPerPhone=3");
        var membersAfter = await CountAsync(db => db.Members.CountAsync());
        var accountsAfter = await CountAsync(db => db.Accounts.CountAsync());
        var rerun = await PanCli.RunAsync(fixture.Database, "members", "import", file, "--Pan:Members:MaxPerPhone=3");

        output.WriteLine(run.Output);
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("read 21, imported 7, already imported 0, bad 14, renamed 1", run.Output, StringComparison.Ordinal);
        var bad = run.Output.Split('\n').Where(l => l.Contains("bad row", StringComparison.Ordinal)).ToList();
        Assert.Equal([4, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21], bad.Select(l => int.Parse(l.Split(' ', ':')[1], CultureInfo.InvariantCulture)));
        foreach (var (line, field) in new[] { (4, "phone"), (7, "legacy_id"), (9, "legacy_id"), (10, "migration_status"), (11, "display_name"), (12, "email"),
            (13, "email"), (14, "username"), (15, "phone"), (16, "phone"), (17, "password_hash"), (18, "created"), (21, "email") })
        {
            Assert.Contains(bad, l => l.StartsWith($"line {line}: bad row: {field}:", StringComparison.Ordinal));
        }

        Assert.Equal(membersBefore + 7, membersAfter);
        Assert.Equal(3, rerun.ExitCode);
        Assert.Contains("read 21, imported 0, already imported 7, bad 14, renamed 0", rerun.Output, StringComparison.Ordinal);
        Assert.Equal(membersAfter, await CountAsync(db => db.Members.CountAsync()));
        Assert.Equal(accountsAfter, await CountAsync(db => db.Accounts.CountAsync()));

        var imported = await ImportedAsync();
        var shared = imported.Where(m => m.Account!.PhoneE164 == "+886912" + n).OrderBy(m => m.Uid).ToList();
        Assert.Equal(["A" + tag, "B" + tag, "C" + tag], shared.Select(m => m.DisplayName));
        Assert.Single(shared.Select(m => m.AccountId).Distinct());
        Assert.Equal([true, false, false], shared.Select(m => m.IsOwner));
        Assert.Equal(shared[0].Uid, shared[0].Account!.DefaultMemberUid);
        Assert.Equal([2, 2, 3], shared.Select(m => m.MigrationStatus));
        Assert.Equal(new DateTimeOffset(2015, 3, 4, 5, 6, 7, TimeSpan.Zero), shared[0].Created);
        Assert.Equal(("u" + tag + "a", "a" + tag + "@example.com"), (shared[0].Username, shared[0].Email));
        Assert.All(imported, m => Assert.Equal(fixture.Server.Services.GetRequiredService<HashUids>().Encode(m.Uid), m.HashUid));
        var phoneless = imported.Single(m => m.DisplayName == "E" + tag);
        Assert.Null(phoneless.Account!.PhoneE164);
        Assert.True(phoneless.IsOwner);
        Assert.Contains(imported, m => m.DisplayName == "a" + tag + "_2");
        Assert.Contains(imported, m => m.DisplayName == "G" + tag && m.MigrationStatus == 3);
        var joined = imported.Single(m => m.DisplayName == "R" + tag);
        Assert.Equal((existing.AccountId, false), (joined.AccountId, joined.IsOwner));
    }

    [Fact]
    public async Task Import_OfACsvFile_ReadsQuotedAndEmptyFields()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var n = Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        using var files = new ImportFiles();
        var file = files.Write("legacy.csv",
        [
            "legacy_id,migration_status,display_name,email,phone,country",
            $"csv{tag}1,2,\"S {tag}\",s{tag}@example.com,0913{n},TW",
            $"csv{tag}2,STATUS_OLD_1128,T{tag},,,",
            $"csv{tag}3,2,U{tag}",
            $"\"csv{tag}4\",2,\"V{tag}\",\"not, an email\",,",
        ]);

        var run = await PanCli.RunAsync(fixture.Database, "members", "import", file);

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("read 4, imported 2, already imported 0, bad 2, renamed 0", run.Output, StringComparison.Ordinal);
        Assert.Contains("line 4: bad row: has 3 fields, the header has 6", run.Output, StringComparison.Ordinal);
        Assert.Contains("line 5: bad row: email:", run.Output, StringComparison.Ordinal);
        var s = Assert.Single(await ImportedAsync(), m => m.DisplayName == "S " + tag);
        Assert.Equal(("+886913" + n, "s" + tag + "@example.com"), (s.Account!.PhoneE164, s.Email));
    }

    /// <summary>
    /// A row whose phone an operator blocked is a bad row (reported by line, nothing written for it): the import makes
    /// no account for a blocked number, as no other way in does; unblock the number and run the file again.
    /// </summary>
    [Fact]
    public async Task Import_OfARowWithABlockedPhone_ReportsItAsBad_AndImportsTheRest()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var n = Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        await TestPhoneBlocks.BlockAsync(fixture.Server, "+886914" + n);
        using var files = new ImportFiles();
        var file = files.Write("legacy.jsonl",
        [
            $$"""{"legacy_id":"b{{tag}}1","migration_status":2,"display_name":"W{{tag}}","phone":"0914{{n}}","country":"886"}""",
            $$"""{"legacy_id":"b{{tag}}2","migration_status":2,"display_name":"X{{tag}}","phone":"+886915{{n}}"}""",
        ]);

        var run = await PanCli.RunAsync(fixture.Database, "members", "import", file);

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("line 1: bad row: phone: is blocked", run.Output, StringComparison.Ordinal);
        Assert.Contains("read 2, imported 1, already imported 0, bad 1, renamed 0", run.Output, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync(db => db.Accounts.CountAsync(a => a.PhoneE164 == "+886914" + n)));
        Assert.Equal(1, await CountAsync(db => db.Accounts.CountAsync(a => a.PhoneE164 == "+886915" + n)));
    }

    /// <summary>Needs the credentials feature: an ILegacyPasswordWriter that stores the hash and a CredentialStore that verifies it.</summary>
    [Fact]
    public async Task Import_WithLegacyPasswordHashes_LetsTheMembersSignInWithTheirOldPasswords()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        var pbkdf2 = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2("old forum password", salt, 1000, System.Security.Cryptography.HashAlgorithmName.SHA1, 20);
#pragma warning disable CA5351 // Why: the legacy forum's salted double MD5 is the format under test.
        static string Md5(string text) => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351
        using var files = new ImportFiles();
        var file = files.Write("passwords.jsonl",
        [
            $$"""{"legacy_id":"pw{{tag}}1","migration_status":2,"display_name":"W{{tag}}","password_hash":"pbkdf2-sha1$1000${{Convert.ToBase64String(salt)}}${{Convert.ToBase64String(pbkdf2)}}"}""",
            $$"""{"legacy_id":"pw{{tag}}2","migration_status":2,"display_name":"X{{tag}}","password_hash":"md5md5$a1b2c3${{Md5(Md5("discuz password") + "a1b2c3")}}"}""",
        ]);

        var run = await PanCli.RunAsync(fixture.Database, "members", "import", file);

        Assert.Equal(0, run.ExitCode);
        var members = await ImportedAsync();
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<Pan.Server.Credentials.CredentialStore>();
        Assert.Equal(Pan.Server.Credentials.SecretCheck.Ok, await store.CheckPasswordAsync(members.Single(m => m.DisplayName == "W" + tag).Uid, "old forum password", default));
        Assert.Equal(Pan.Server.Credentials.SecretCheck.Ok, await store.CheckPasswordAsync(members.Single(m => m.DisplayName == "X" + tag).Uid, "discuz password", default));
    }

    /// <summary>
    /// Each batch commits with its own audit line (<c>cli.members.import</c> on <c>file:&lt;name&gt;</c>, "ok: batch:
    /// imported N, lines A-B"): when the database refuses the line of the second batch, that batch is rolled back whole,
    /// the first stays with its line, and the command exits 1; running it again imports the rest.
    /// </summary>
    [Fact]
    public async Task Import_WhenABatchsAuditLineIsRefused_RollsThatBatchBack_KeepsTheEarlierOne_AndExitsWithOne()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var name = $"audited{tag}.jsonl";
        using var files = new ImportFiles();
        var file = files.Write(name, Enumerable.Range(1, 4).Select(i => $$"""{"legacy_id":"au{{tag}}{{i}}","migration_status":2,"display_name":"W{{tag}}{{i}}"}"""));

        CliRun run;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert,
            "NEW.action = 'cli.members.import' AND NEW.outcome LIKE '%lines 3-4'"))
        {
            run = await PanCli.RunAsync(fixture.Database, "members", "import", file, "--batch-size", "2");
        }

        var afterRun = await ImportedNamesAsync(tag);
        var linesAfterRun = (await fixture.AuditAsync("cli.members.import", "file:" + name)).Select(e => e.Outcome).ToList();
        var rerun = await PanCli.RunAsync(fixture.Database, "members", "import", file, "--batch-size", "2");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("members import stopped", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(FailureTriggers.Message, run.Error + run.Output, StringComparison.Ordinal);
        Assert.Equal([$"W{tag}1", $"W{tag}2"], afterRun);
        Assert.Equal(2, linesAfterRun.Count);
        Assert.Equal("ok: batch: imported 2, lines 1-2", linesAfterRun[0]);
        Assert.StartsWith("error: ", linesAfterRun[1], StringComparison.Ordinal);
        Assert.Equal(0, rerun.ExitCode);
        Assert.Contains("read 4, imported 2, already imported 2, bad 0", rerun.Output, StringComparison.Ordinal);
        Assert.Equal([$"W{tag}1", $"W{tag}2", $"W{tag}3", $"W{tag}4"], await ImportedNamesAsync(tag));
        Assert.Equal(["ok: batch: imported 2, lines 3-4", "ok: read 4, imported 2, already imported 2, bad 0, renamed 0"],
            (await fixture.AuditAsync("cli.members.import", "file:" + name)).Skip(2).Select(e => e.Outcome));
    }

    /// <summary>When no import line can be written at all, the first batch rolls back and the command still exits 1 saying so.</summary>
    [Fact]
    public async Task Import_WhenNoAuditLineCanBeWritten_ImportsNothingAndExitsWithOne()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        using var files = new ImportFiles();
        var file = files.Write($"unaudited{tag}.jsonl", Enumerable.Range(1, 2).Select(i => $$"""{"legacy_id":"na{{tag}}{{i}}","migration_status":2,"display_name":"N{{tag}}{{i}}"}"""));

        CliRun run;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'cli.members.import'"))
        {
            run = await PanCli.RunAsync(fixture.Database, "members", "import", file);
        }

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("members import stopped", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(FailureTriggers.Message, run.Error + run.Output, StringComparison.Ordinal);
        Assert.Empty(await ImportedNamesAsync(tag));
    }

    [Fact]
    public async Task Import_OfManyGeneratedRows_ImportsEveryRow_AndARerunChangesNothing()
    {
        var rows = ImportFiles.GeneratedRowCount;
        await using var database = await fixture.NewDatabaseAsync();
        Assert.Equal(0, (await PanCli.RunAsync(database, "migrate")).ExitCode);
        using var files = new ImportFiles();
        var file = files.Generate(rows);

        var clock = Stopwatch.StartNew();
        var run = await PanCli.RunAsync(database, "members", "import", file);
        var first = clock.Elapsed;
        var counts = await CountsAsync(database);
        clock.Restart();
        var rerun = await PanCli.RunAsync(database, "members", "import", file);
        var second = clock.Elapsed;

        output.WriteLine($"{database.Provider}: {rows} rows imported in {first.TotalSeconds:F1} s; re-run in {second.TotalSeconds:F1} s");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains($"imported {rows}, already imported 0, bad 0", run.Output, StringComparison.Ordinal);
        Assert.Equal((rows, rows * 9 / 10, rows), counts);
        Assert.Equal(0, rerun.ExitCode);
        Assert.Contains($"imported 0, already imported {rows}, bad 0", rerun.Output, StringComparison.Ordinal);
        Assert.Equal(counts, await CountsAsync(database));
    }

    private static async Task<(int Members, int Accounts, int Map)> CountsAsync(ITestDatabase database)
    {
        var options = new DbContextOptionsBuilder<PanDbContext>();
        Pan.Server.Data.DatabaseServiceCollectionExtensions.Configure(options, database.Provider, database.ConnectionString);
        await using var db = new PanDbContext(options.Options);
        return (await db.Members.CountAsync(), await db.Accounts.CountAsync(), await db.Set<ImportMapEntry>().CountAsync());
    }

    private async Task<List<string>> ImportedNamesAsync(string tag) =>
        [.. (await ImportedAsync()).Select(m => m.DisplayName ?? string.Empty).Where(n => n.Contains(tag, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    private Task<int> CountAsync(Func<PanDbContext, Task<int>> query) => TestMembers.WithDbAsync(fixture.Server, query);

    private Task<List<Member>> ImportedAsync() => TestMembers.WithDbAsync(fixture.Server, db =>
        (from m in db.Members.Include(m => m.Account)
         join e in db.Set<ImportMapEntry>() on m.Uid equals e.Uid
         select m).AsNoTracking().ToListAsync());

    private async Task<Member> CreateMemberAsync(string phone, string email)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var name = TestMembers.UniqueName();
        return await scope.ServiceProvider.GetRequiredService<MemberCreator>().CreateAsync(
            new Account { PhoneE164 = phone, PhoneCountryCode = 886 },
            new Member { DisplayName = name, DisplayNameKey = Pan.Server.DisplayNames.DisplayNameRules.Key(name), Email = email, EmailKey = email, IsOwner = true },
            default);
    }
}

public sealed class MemberImportBehaviour_Sqlite(SqliteAdminFixture f, ITestOutputHelper o) : MemberImportBehaviour<SqliteAdminFixture>(f, o);

public sealed class MemberImportBehaviour_Postgres(PostgresAdminFixture f, ITestOutputHelper o) : MemberImportBehaviour<PostgresAdminFixture>(f, o);
