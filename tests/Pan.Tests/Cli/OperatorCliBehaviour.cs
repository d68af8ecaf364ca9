using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pan.Data.Apps;
using Pan.Data.Audit;
using Pan.Server.Cli;
using Pan.General.Admin;
using Pan.Tests.Admin;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using static Pan.Tests.Infrastructure.PanCli;

namespace Pan.Tests.Cli;

/// <summary>The operator commands <c>migrate</c>, <c>apps</c> and <c>admins</c>, run in-process on the fixture's database.</summary>
public abstract class OperatorCliBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AdminFixture
{
    [Fact]
    public async Task Migrate_OnAnEmptyDatabase_CreatesTheSchemaAndSeedsTheApps()
    {
        await using var database = await fixture.NewDatabaseAsync();

        var run = await PanCli.RunAsync(database, "migrate");
        var list = await PanCli.RunAsync(database, "apps", "list");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("is at the latest migration", run.Output, StringComparison.Ordinal);
        Assert.Equal(0, list.ExitCode);
        Assert.Equal(12, list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("avplus", list.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Migrating an empty database logs no Error line: the migration succeeds, and an operator (or a newcomer's first
    /// start on PostgreSQL) must not read a failure that is none. Before, PostgreSQL logged two "Failed executing
    /// DbCommand" lines at Error, the provider's reads of a migration history table that did not exist yet.
    /// </summary>
    [Fact]
    public async Task Migrate_OnAnEmptyDatabase_LogsNoErrorLine()
    {
        await using var database = await fixture.NewDatabaseAsync();
        var logs = new LogCapture();

        var run = await PanCli.RunAsync(database, builder => builder.Logging.AddProvider(logs), async context =>
        {
            var applied = await Pan.Server.Data.DatabaseMigrator.MigrateAsync(
                context.Services.GetRequiredService<Pan.Data.PanDbContext>(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
            return applied.Count > 0 ? CliHost.Ok : CliHost.Failed;
        });

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Error}");
        Assert.DoesNotContain(logs.Lines, l => l.Contains(" Error: ", StringComparison.Ordinal) || l.Contains(" Critical: ", StringComparison.Ordinal));
    }

    /// <summary>
    /// Two nodes and an operator's <c>migrate</c> start together on an empty database: each finds every migration
    /// pending, and one applies them while the others wait for it, then find nothing left to do. All three succeed
    /// (no "relation already exists" from a migration run twice) and the database ends at the latest migration.
    /// </summary>
    [Fact]
    public async Task TwoNodesAndAMigrate_StartingTogetherOnAnEmptyDatabase_AllSucceed_AndMigrateItOnce()
    {
        await using var database = await fixture.NewDatabaseAsync();

        Task<PanServer>[] starts = [PanServer.StartAsync(database), PanServer.StartAsync(database)];
        var migrate = PanCli.RunAsync(database, "migrate");
        var failures = new List<string>();
        foreach (var start in starts)
        {
            try
            {
                await using var node = await start;
            }
            catch (Exception ex)
            {
                failures.Add(ex.Message);
            }
        }

        var run = await migrate;

        Assert.Empty(failures);
        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var again = await PanCli.RunAsync(database, "migrate");
        Assert.Contains("is at the latest migration", again.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>migrate</c> on a database it cannot reach (PostgreSQL: a closed port; SQLite: a folder where the file should
    /// be) answers like the other commands: a message naming the database, exit 1, no stack trace, no password.
    /// </summary>
    [Fact]
    public async Task Migrate_OnAnUnreachableDatabase_SaysTheDatabaseFailed_WithoutAStackTraceOrPassword_AndExitsWithOne()
    {
        var folder = Directory.CreateTempSubdirectory("pan-test-notafile-").FullName;
        var connectionString = fixture.Database.Provider == "postgres"
            ? new Npgsql.NpgsqlConnectionStringBuilder(fixture.Database.ConnectionString) { Port = ClosedPort(), Password = Password, Timeout = 5 }.ConnectionString
            : $"Data Source={folder}";

        var run = await RunCaughtAsync(new OtherDatabase(fixture.Database.Provider, connectionString), "migrate");

        AssertRefused(run, "The database failed");
        Assert.DoesNotContain(Password, run.Error, StringComparison.Ordinal);
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>
    /// A bad setting — the database provider, read by the migration itself, and one read while the endpoints are
    /// mapped — is named, without a stack trace, and nothing is migrated.
    /// </summary>
    [Fact]
    public async Task Migrate_WithABadSetting_SaysWhichSetting_WithoutAStackTrace_AndExitsWithOne()
    {
        await using var database = await fixture.NewDatabaseAsync();

        var provider = await RunCaughtAsync(new OtherDatabase("mysql", database.ConnectionString), "migrate");
        var basePath = await RunCaughtAsync(database, "migrate", "--Pan:Guests:BasePath=no-slash/");
        var list = await PanCli.RunAsync(database, "apps", "list");

        AssertRefused(provider, "Pan:Database:Provider must be 'sqlite' or 'postgres'.");
        AssertRefused(basePath, "Pan:Guests:BasePath must be empty or like /apinode");
        Assert.Empty(provider.Output + basePath.Output);
        Assert.Contains("migrate", list.Error, StringComparison.Ordinal);
    }

    /// <summary>A connection string the provider cannot read is named as the setting to fix, without its password.</summary>
    [Fact]
    public async Task Migrate_WithABadConnectionString_SaysWhichSetting_WithoutThePassword_AndExitsWithOne()
    {
        var run = await RunCaughtAsync(new OtherDatabase(fixture.Database.Provider, $"Data Source=x.db;Host=127.0.0.1;Password={Password};Bogus Keyword=1"), "migrate");

        AssertRefused(run, "ConnectionStrings:Pan");
        Assert.DoesNotContain(Password, run.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// An unquoted password holding ';' splits into Keyword=value pairs of its own: the part after the ';' is no
    /// keyword of the provider, and is not named (it is a piece of the password); the pair is named by its place.
    /// </summary>
    [Fact]
    public async Task Migrate_WithAPasswordHoldingASemicolonUnquoted_NamesNoPieceOfIt_AndExitsWithOne()
    {
        var connection = fixture.Database.Provider == "postgres"
            ? "Host=127.0.0.1;Password=pw;secretpiece=rest"
            : "Data Source=x.db;Password=pw;secretpiece=rest";
        var run = await RunCaughtAsync(new OtherDatabase(fixture.Database.Provider, connection), "migrate");

        AssertRefused(run, "ConnectionStrings:Pan");
        Assert.DoesNotContain("secretpiece", run.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("3rd", run.Error, StringComparison.Ordinal);
    }

    private const string Password = "pw-that-must-not-show";

    private static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A database the test names by hand (a connection string that cannot work); nothing to drop.</summary>
    private sealed record OtherDatabase(string Provider, string ConnectionString) : ITestDatabase
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task AppsAdd_PrintsASecretOnceAndStoresOnlyItsHash()
    {
        var run = await PanCli.RunAsync(fixture.Database, "apps", "add", "jkface", "--name", "JK Face", "--auth-host", "Face.Example.com, m.face.example.com");
        var secret = PanCli.Secret(run);
        var list = await PanCli.RunAsync(fixture.Database, "apps", "list");
        var again = await PanCli.RunAsync(fixture.Database, "apps", "add", "jkface", "--name", "Other");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(43, secret.Length);
        Assert.DoesNotContain(secret, list.Output, StringComparison.Ordinal);
        Assert.Contains("face.example.com,m.face.example.com", list.Output, StringComparison.Ordinal);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already registered", again.Error, StringComparison.Ordinal);
        var row = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<StoredApp>().AsNoTracking().SingleAsync(a => a.AppId == "jkface"));
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(secret)), row.SecretHash);
        Assert.Equal("JK Face", row.Name);
        var audit = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == "app:jkface").ToListAsync());
        Assert.Equal(["ok", "refused: already registered"], audit.OrderBy(e => e.Id).Select(e => e.Outcome));
        Assert.All(audit, e => Assert.StartsWith("cli:", e.Actor, StringComparison.Ordinal));
    }

    /// <summary>
    /// Two operators add one app at the same moment: both read "not registered" before either writes (held here at the
    /// write by a lock on the registry). Exactly one may get a secret; the other must be told, not handed a secret that
    /// the second write silently replaced.
    /// </summary>
    [Fact]
    public async Task AppsAdd_TwoAtOnceForOneApp_OneGetsTheSecretAndTheOtherIsRefused()
    {
        CliRun[] runs;
        await using (var hold = await DatabaseLock.HoldAsync(fixture.Database, "apps"))
        {
            // Why Task.Run: SQLite waits for its write lock on the calling thread, which must not be this test's.
            var both = Task.WhenAll(
                Task.Run(() => PanCli.RunAsync(fixture.Database, "apps", "add", "jkfpost", "--name", "First")),
                Task.Run(() => PanCli.RunAsync(fixture.Database, "apps", "add", "jkfpost", "--name", "Second")));
            if (!await LockWaits.UntilAsync(fixture.Database, 2, both))
            {
                // SQLite shows no waiting statement: give both commands time to reach their write (within the busy timeout).
                await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(2.5)));
            }

            await hold.CommitAsync();
            runs = await both;
        }

        var winner = Assert.Single(runs, r => r.ExitCode == 0);
        var loser = Assert.Single(runs, r => r.ExitCode != 0);
        Assert.Equal(1, loser.ExitCode);
        Assert.Contains("already registered", loser.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", loser.Output, StringComparison.OrdinalIgnoreCase);
        var row = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<StoredApp>().AsNoTracking().SingleAsync(a => a.AppId == "jkfpost"));
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(PanCli.Secret(winner))), row.SecretHash);
        Assert.Equal(winner == runs[0] ? "First" : "Second", row.Name);
        var audit = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == "app:jkfpost").ToListAsync());
        Assert.Equal(["ok", "refused: already registered"], audit.Select(e => e.Outcome).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// A rotation and its audit line commit together: when the line is refused, the old secret keeps working (a
    /// rotation that committed alone killed the old secret and never showed the new one).
    /// </summary>
    [Fact]
    public async Task AppsRotateSecret_WhenItsAuditLineIsRefused_KeepsTheOldSecretAndExitsWithOne()
    {
        var secret = PanCli.Secret(await PanCli.RunAsync(fixture.Database, "apps", "add", "jktank", "--name", "Tank"));

        CliRun run;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'cli.apps.rotate-secret'"))
        {
            run = await PanCli.RunAsync(fixture.Database, "apps", "rotate-secret", "jktank");
        }

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("nothing was changed", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(FailureTriggers.Message, run.Error + run.Output, StringComparison.Ordinal);
        var row = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<StoredApp>().AsNoTracking().SingleAsync(a => a.AppId == "jktank"));
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(secret)), row.SecretHash);
    }

    [Fact]
    public async Task AdminsRemove_WhenItsAuditLineIsRefused_KeepsTheAdminAndExitsWithOne()
    {
        var email = $"keep{Guid.NewGuid():N}@example.com";
        Assert.Equal(0, (await PanCli.RunAsync(fixture.Database, "admins", "add", email, "--roles", "support")).ExitCode);

        CliRun run;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'cli.admins.remove'"))
        {
            run = await PanCli.RunAsync(fixture.Database, "admins", "remove", email);
        }

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(email, (await PanCli.RunAsync(fixture.Database, "admins", "list")).Output, StringComparison.Ordinal);
    }

    /// <summary>A change of an app's guest settings commits together with its audit line: when the line is refused, the settings stay.</summary>
    [Fact]
    public async Task AppsGuestSettings_WhenItsAuditLineIsRefused_KeepsTheSettingsAndExitsWithOne()
    {
        var before = await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", "jktalk");

        CliRun run;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'cli.apps.guest-settings'"))
        {
            run = await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", "jktalk", "--activation", "sms", "--locale", "zh-TW");
        }

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("nothing was changed", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(FailureTriggers.Message, run.Error + run.Output, StringComparison.Ordinal);
        Assert.Contains("activation=email locale=en", before.Output, StringComparison.Ordinal);
        Assert.Equal(before.Output, (await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", "jktalk")).Output);
    }

    /// <summary>
    /// Two operators set the first guest settings of one app at the same moment: both find no settings row before either
    /// writes (held here at the write by a lock on the settings). As when they run one after the other, both succeed,
    /// each sets the settings it names, and of a setting both name the later one's value stays; neither is told the
    /// database refused a write.
    /// </summary>
    [Fact]
    public async Task AppsGuestSettings_TwoFirstSettingsOfOneAppAtOnce_BothApply_AsOneAfterTheOther()
    {
        const string App = "sugar";
        CliRun[] runs;
        await using (var hold = await DatabaseLock.HoldAsync(fixture.Database, "guest_app_settings"))
        {
            // Why Task.Run: SQLite waits for its write lock on the calling thread, which must not be this test's.
            var both = Task.WhenAll(
                Task.Run(() => PanCli.RunAsync(fixture.Database, "apps", "guest-settings", App, "--account-name", "mobile", "--activation", "sms")),
                Task.Run(() => PanCli.RunAsync(fixture.Database, "apps", "guest-settings", App, "--activation", "none", "--locale", "zh-TW")));
            if (!await LockWaits.UntilAsync(fixture.Database, 2, both))
            {
                // SQLite shows no waiting statement: give both commands time to reach their write (within the busy timeout).
                await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(2.5)));
            }

            await hold.CommitAsync();
            runs = await both;
        }

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Error));
        var final = (await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", App)).Output;
        var later = Assert.Single(runs, r => r.Output == final);
        var earlier = later == runs[0] ? runs[1] : runs[0];
        Assert.Equal(
            $"{App}: account-name=mobile activation={(later == runs[0] ? "sms" : "none")} locale=zh-TW",
            final.TrimEnd());
        Assert.Equal(
            later == runs[0] ? $"{App}: account-name=email activation=none locale=zh-TW" : $"{App}: account-name=mobile activation=sms locale=en",
            earlier.Output.TrimEnd());
        var audit = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == "app:" + App).OrderBy(e => e.Id).Select(e => e.Outcome).ToListAsync());
        Assert.Equal([earlier.Output, later.Output], audit.Select(o => $"{App}: " + o["ok: ".Length..] + Environment.NewLine));
    }

    [Fact]
    public async Task AppsUpdate_ChangesTheHostsAndKeepsTheSecret()
    {
        var secret = PanCli.Secret(await PanCli.RunAsync(fixture.Database, "apps", "add", "jr24h", "--name", "JR", "--auth-host", "old.example.com"));

        var run = await PanCli.RunAsync(fixture.Database, "apps", "update", "jr24h", "--auth-host", "new.example.com");

        Assert.Equal(0, run.ExitCode);
        var row = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<StoredApp>().AsNoTracking().SingleAsync(a => a.AppId == "jr24h"));
        Assert.Equal("new.example.com", row.AuthHosts);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(secret)), row.SecretHash);
    }

    [Theory]
    [InlineData("apps", "add", "nosuchapp", "--name", "X")]
    [InlineData("apps", "add", "sugar")]
    [InlineData("apps", "add", "sugar", "--name", "S", "--auth-host", "https://sugar.example.com/path")]
    [InlineData("apps", "add", "sugar", "--name")]
    [InlineData("apps", "frobnicate")]
    [InlineData("apps", "add", "sugar", "--name", "S", "--colour", "blue")]
    [InlineData("admins", "add", "not-an-email", "--roles", "support")]
    [InlineData("admins", "add", "someone@example.com", "--roles", "superuser")]
    [InlineData("admins", "add", "someone@example.com")]
    [InlineData("members", "import", "file.txt")]
    [InlineData("frobnicate")]
    public async Task Commands_WithBadUsage_ExitWithTwoAndChangeNothing(params string[] args)
    {
        var run = await PanCli.RunAsync(fixture.Database, args);

        Assert.Equal(2, run.ExitCode);
        Assert.NotEmpty(run.Error);
        Assert.Null(await TestMembers.WithDbAsync(fixture.Server, db => db.Set<StoredApp>().AsNoTracking().Where(a => a.AppId == "sugar").Select(a => a.SecretHash).SingleAsync()));
    }

    /// <summary>
    /// <c>members restore</c> of a member that is not suspended — never was, or its suspension ended by itself — says
    /// so, exits 0 and changes nothing: not the member's row (a lapsed end stays as it was), only its audit line.
    /// </summary>
    [Fact]
    public async Task MembersRestore_OfAMemberNotSuspended_SaysSo_ExitsZero_AndChangesNothing()
    {
        var never = await TestMembers.CreateAsync(fixture.Server);
        var lapsed = await TestMembers.CreateAsync(fixture.Server);
        // Past for the server's clock and the command line's alike.
        var ended = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == lapsed.Uid).ExecuteUpdateAsync(u => u.SetProperty(m => m.SuspendedUntil, ended)));

        foreach (var (member, until) in new[] { (never, (DateTimeOffset?)null), (lapsed, ended) })
        {
            var uid = member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var run = await PanCli.RunAsync(fixture.Database, "members", "restore", uid);

            Assert.Equal(0, run.ExitCode);
            Assert.Equal($"Member {uid} was not suspended; nothing changed.", run.Output.Trim());
            Assert.Equal(until, await TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.SuspendedUntil).SingleAsync()));
            Assert.Equal("ok: not suspended", Assert.Single(await fixture.AuditAsync("cli.members.restore", "uid:" + uid)).Outcome);
        }
    }

    [Fact]
    public async Task Admins_AddListUpdateRemove_ManageTheAllowList()
    {
        var email = $"Ops{Guid.NewGuid():N}@Example.com";
        var key = email.ToLowerInvariant();

        var added = await PanCli.RunAsync(fixture.Database, "admins", "add", email, "--roles", "support");
        var updated = await PanCli.RunAsync(fixture.Database, "admins", "add", email, "--roles", "member-admin,support");
        var list = await PanCli.RunAsync(fixture.Database, "admins", "list");
        var login = await new AdminService.AdminServiceClient(fixture.Server.Grpc).GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(key) });
        var removed = await PanCli.RunAsync(fixture.Database, "admins", "remove", email);
        var removedAgain = await PanCli.RunAsync(fixture.Database, "admins", "remove", email);
        var check = await new AdminService.AdminServiceClient(fixture.Server.Grpc).ValidateAdminTokenAsync(new ValidateAdminTokenRequest { AdminToken = login.AdminToken });

        Assert.Equal((0, 0, 0, 0, 1), (added.ExitCode, updated.ExitCode, list.ExitCode, removed.ExitCode, removedAgain.ExitCode));
        Assert.Contains(list.Output.Split('\n'), l => l.StartsWith(key, StringComparison.Ordinal) && l.Contains("member-admin,support", StringComparison.Ordinal));
        Assert.False(check.IsValid);
        var audit = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == "admin:" + key).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal(["cli.admins.add", "cli.admins.add", "cli.admins.remove", "cli.admins.remove"], audit.Select(e => e.Action));
    }

    /// <summary>
    /// Two operators add one admin at the same moment: both find the email not listed before either writes (held here at
    /// the write by a lock on the allow-list). As when they run one after the other (the second sets the roles:
    /// "Updated"), one adds the admin and the other sets its roles; neither is told the database refused a write.
    /// </summary>
    [Fact]
    public async Task AdminsAdd_TwoAtOnceForOneAdmin_OneAddsAndTheOtherSetsTheRoles_AsOneAfterTheOther()
    {
        var email = $"race{Guid.NewGuid():N}@example.com";
        CliRun[] runs;
        await using (var hold = await DatabaseLock.HoldAsync(fixture.Database, "admins"))
        {
            // Why Task.Run: SQLite waits for its write lock on the calling thread, which must not be this test's.
            var both = Task.WhenAll(
                Task.Run(() => PanCli.RunAsync(fixture.Database, "admins", "add", email, "--roles", "support")),
                Task.Run(() => PanCli.RunAsync(fixture.Database, "admins", "add", email, "--roles", "member-admin")));
            if (!await LockWaits.UntilAsync(fixture.Database, 2, both))
            {
                // SQLite shows no waiting statement: give both commands time to reach their write (within the busy timeout).
                await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(2.5)));
            }

            await hold.CommitAsync();
            runs = await both;
        }

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Error));
        Assert.Single(runs, r => r.Output.StartsWith("Added " + email, StringComparison.Ordinal));
        var later = Assert.Single(runs, r => r.Output.StartsWith("Updated " + email, StringComparison.Ordinal));
        var roles = later == runs[0] ? "support" : "member-admin";
        Assert.Contains((await PanCli.RunAsync(fixture.Database, "admins", "list")).Output.Split('\n'),
            l => l.StartsWith(email, StringComparison.Ordinal) && l.Contains(" " + roles + " ", StringComparison.Ordinal));
        var audit = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == "admin:" + email).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal(["ok: added with " + (roles == "support" ? "member-admin" : "support"), "ok: roles set to " + roles], audit.Select(e => e.Outcome));
    }

    /// <summary>
    /// A setting read while the endpoints are mapped (Pan:Guests:BasePath) fails as the command's host is built: the
    /// operator reads which setting, once, and no stack trace — neither from the command nor from a log line.
    /// </summary>
    [Fact]
    public async Task Commands_WithABadSettingReadWhileMapping_SayWhichSetting_WithoutAStackTrace_AndExitWithOne()
    {
        const string message = "Pan:Guests:BasePath must be empty or like /apinode";
        var logs = new LogCapture();
        var ran = false;

        var run = await PanCli.RunAsync(fixture.Database, builder =>
        {
            builder.Configuration["Pan:Guests:BasePath"] = "no-slash/";
            builder.Logging.AddProvider(logs);
        }, _ =>
        {
            ran = true;
            return Task.FromResult(0);
        });
        var line = await PanCli.RunAsync(fixture.Database, "apps", "list", "--Pan:Guests:BasePath=no-slash/");

        Assert.False(ran);
        Assert.All(new[] { run, line }, r =>
        {
            Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}: {r.Error}");
            Assert.Contains(message, r.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Error, StringComparison.Ordinal);
        });
        Assert.Empty(line.Output);
        // What the console would print besides the command's own message.
        Assert.DoesNotContain(logs.Lines, l => l.Contains(message, StringComparison.Ordinal) || l.Contains("   at ", StringComparison.Ordinal));
    }

    /// <summary>
    /// A value that cannot be read as its setting's type (a name the enum lacks, a whole number, true or false, a
    /// number), read by a command or while the endpoints are mapped: the operator reads the setting's key and what it
    /// must be, never the value (a secret pasted under the wrong key), without a stack trace, and the command exits 1.
    /// </summary>
    [Fact]
    public async Task Commands_WithAValueNotOfItsSettingsType_SayWhichSettingAndWhatItMustBe_WithoutTheValue_AndExitWithOne()
    {
        var runs = new List<(string Expected, CliRun Run)>();
        foreach (var (key, expected) in new[]
        {
            // Read by the command (its database context).
            ("Pan:Database:SqliteSynchronous", "must be one of: Full, Normal."),
            ("Pan:Database:MigrateOnStartup", "must be true or false."),
            // Read while the endpoints are mapped.
            ("Pan:Guests:TempTokenDays", "must be a whole number."),
        })
        {
            runs.Add(($"{key} {expected}", await RunCaughtAsync(fixture.Database, "apps", "list", $"--{key}={NotAValue}")));
        }

        foreach (var (key, expected, read) in new (string, string, Func<CliContext, Task<int>>)[]
        {
            ("Pan:Sms:Webhook:TimeoutSeconds", "must be a whole number.", ReadAsync<Pan.Server.Sms.SmsWebhookOptions>),
            ("Pan:OAuth:AllowHttpOnLoopback", "must be true or false.", ReadAsync<Pan.Server.OAuth.OAuthOptions>),
            ("Pan:Omniauth:TimeoutSeconds", "must be a number", ReadAsync<Pan.Server.Omniauth.OmniauthOptions>),
        })
        {
            CliRun run;
            try
            {
                run = await PanCli.RunAsync(fixture.Database, builder => builder.Configuration[key] = NotAValue, read);
            }
            catch (Exception ex)
            {
                run = new CliRun(-1, string.Empty, ex.ToString());
            }

            runs.Add(($"{key} {expected}", run));
        }

        Assert.All(runs, r =>
        {
            AssertRefused(r.Run, r.Expected);
            Assert.DoesNotContain(NotAValue, r.Run.Error, StringComparison.Ordinal);
            Assert.Empty(r.Run.Output);
        });
    }

    /// <summary>A value no setting's type can read, shaped like a secret pasted under the wrong key.</summary>
    private const string NotAValue = "sk-pasted-secret-7c41e9";

    private static Task<int> ReadAsync<TOptions>(CliContext context)
        where TOptions : class
    {
        _ = context.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TOptions>>().Value;
        return Task.FromResult(CliHost.Ok);
    }

    [Fact]
    public async Task Help_ListsTheCommands()
    {
        var run = await PanCli.RunAsync(fixture.Database, "help");

        Assert.Equal(0, run.ExitCode);
        foreach (var command in new[] { "migrate", "apps add", "apps rotate-secret", "admins add", "admins remove", "members import" })
        {
            Assert.Contains(command, run.Output, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// <c>--help</c>, <c>-h</c> and <c>-?</c> print the usage and exit 0, as <c>help</c> does, and start no server. The
    /// CORS entry would stop a server at start-up (exit 1), so a command line that took them for server options ends
    /// at once instead of serving.
    /// </summary>
    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    public async Task HelpOption_PrintsTheUsage_AndStartsNoServer(string option)
    {
        var run = await PanCli.RunAsync(fixture.Database, option, "--Pan:Cors:AllowedOrigins:0=*");

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Error}");
        Assert.Contains("Usage: Pan.Server [command]", run.Output, StringComparison.Ordinal);
        Assert.Contains("apps add", run.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>--help</c>, <c>-h</c> or <c>-?</c> after a command (or one of its verbs) prints that command's usage and exits 0.
    /// Before, it was an unknown option: "Unknown option --help." and exit 2.
    /// </summary>
    [Theory]
    [InlineData("Usage: Pan.Server apps", "apps", "--help")]
    [InlineData("Usage: Pan.Server apps", "apps", "-h")]
    [InlineData("Usage: Pan.Server apps", "apps", "add", "-?")]
    [InlineData("Pan.Server apps events", "apps", "events", "--help")]
    [InlineData("Pan.Server apps guest-settings", "apps", "guest-settings", "-h")]
    [InlineData("Usage: Pan.Server clients", "clients", "--help")]
    [InlineData("Usage: Pan.Server admins", "admins", "-h")]
    [InlineData("Usage: Pan.Server members", "members", "--help")]
    [InlineData("Usage: Pan.Server members", "members", "import", "--help")]
    [InlineData("Usage: Pan.Server phones", "phones", "--help")]
    [InlineData("Usage: Pan.Server migrate", "migrate", "--help")]
    [InlineData("Usage: Pan.Server phones", "phones", "block", "+886912345678", "--reason", "-h", "--help")]
    [InlineData("Usage: Pan.Server apps", "apps", "update", "avplus", "--name", "--help")]
    public async Task CommandHelp_PrintsThatCommandsUsage_AndExitsZero(string usage, params string[] args)
    {
        var run = await PanCli.RunAsync(fixture.Database, args);

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Error}");
        Assert.Contains(usage, run.Output, StringComparison.Ordinal);
        Assert.Empty(run.Error);
    }

    /// <summary>
    /// <c>-h</c> or <c>-?</c> where an option's value stands is that value, not a request for help: the block is made
    /// with it as its reason. Before, any help word after a command printed the usage and did nothing (exit 0).
    /// </summary>
    [Theory]
    [InlineData("-h")]
    [InlineData("-?")]
    public async Task AHelpWord_AsAnOptionsValue_IsThatValue(string reason)
    {
        var e164 = "+8869" + Random.Shared.Next(0, 90_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);

        var block = await PanCli.RunAsync(fixture.Database, "phones", "block", e164, "--reason", reason);
        var list = await PanCli.RunAsync(fixture.Database, "phones", "list");
        var unblock = await PanCli.RunAsync(fixture.Database, "phones", "unblock", e164);

        Assert.True(block.ExitCode == 0, $"exit {block.ExitCode}: {block.Error}");
        Assert.DoesNotContain("Usage:", block.Output, StringComparison.Ordinal);
        Assert.Contains($"{e164} is blocked", block.Output, StringComparison.Ordinal);
        Assert.Contains(list.Output.Split('\n'), l => l.StartsWith(e164, StringComparison.Ordinal) && l.TrimEnd().EndsWith("\t" + reason, StringComparison.Ordinal));
        Assert.True(unblock.ExitCode == 0, unblock.Error);
    }

    /// <summary>
    /// A key under Pan: that no setting has is refused by an operator command as by the server: exit 1, a message naming
    /// the key (and the setting meant), no stack trace, nothing done.
    /// </summary>
    [Fact]
    public async Task Command_WithAnUnknownSetting_IsRefused_NamingIt()
    {
        var run = await PanCli.RunAsync(fixture.Database, "apps", "list", "--Pan:Sms:Provder=webhook");

        AssertRefused(run, "Pan:Sms:Provder is not a setting of Pan (did you mean Pan:Sms:Provider?).");
        Assert.Empty(run.Output);
    }
}

public sealed class OperatorCliBehaviour_Sqlite(SqliteAdminFixture f) : OperatorCliBehaviour<SqliteAdminFixture>(f);

public sealed class OperatorCliBehaviour_Postgres(PostgresAdminFixture f) : OperatorCliBehaviour<PostgresAdminFixture>(f);
