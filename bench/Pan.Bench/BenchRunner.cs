using System.Diagnostics;
using System.Text.Json;
using Pan.Bench.Hosting;
using Pan.Bench.Reporting;
using Pan.Bench.Scenarios;
using Pan.Bench.Seeding;

namespace Pan.Bench;

/// <summary>
/// The standard suite: the hash floor once, then for every (database, member count) a fresh database, migrated by the
/// server's own <c>migrate</c> command, seeded in bulk, served by a fresh server, and every selected scenario against it.
/// Writes results.json and results.md to the output folder and returns the report.
/// </summary>
public static class BenchRunner
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static async Task<BenchReport> RunAsync(BenchOptions options, string command, TextWriter log)
    {
        var started = DateTimeOffset.UtcNow;
        var loadBefore = MachineInfo.LoadAverage();
        var clock = Stopwatch.StartNew();
        var dll = ServerDll(options);
        var output = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(Path.Combine(output, "logs"));

        ScenarioResult? hash = null;
        if (options.Runs(ScenarioNames.Hash) || options.Runs(ScenarioNames.PasswordVerify))
        {
            log.WriteLine("hash floor (in-process, no server running)");
            hash = await PasswordScenarios.HashAsync(options, log);
        }

        var runs = new List<RunReport>();
        await using (var sms = await SmsListener.StartAsync())
        {
            foreach (var database in options.Databases)
            {
                foreach (var members in options.MemberCounts)
                {
                    runs.Add(await RunOneAsync(options, dll, database, members, sms, hash?.Throughput, output, log));
                }
            }
        }

        var report = new BenchReport(started, clock.Elapsed.TotalSeconds, MachineInfo.Capture(loadBefore), command, BenchSettings.From(options), hash, runs);
        await File.WriteAllTextAsync(Path.Combine(output, "results.json"), JsonSerializer.Serialize(report, Json));
        await File.WriteAllTextAsync(Path.Combine(output, "results.md"), MarkdownReport.Render(report));
        log.WriteLine($"wrote {Path.Combine(output, "results.md")} and results.json ({clock.Elapsed.TotalMinutes:F1} min)");
        return report;
    }

    private static async Task<RunReport> RunOneAsync(
        BenchOptions options, string dll, string provider, int members, SmsListener sms, double? hash, string output, TextWriter log)
    {
        var results = new List<ScenarioResult>();
        var (seedSeconds, signInSeconds) = (0.0, 0.0);
        double? rss = null;
        var logFile = Path.Combine(output, "logs", $"server-{provider}-{members}.log");
        File.Delete(logFile);
        log.WriteLine($"{provider}, {members:N0} members");
        try
        {
            await using var database = await BenchDatabase.CreateAsync(provider, members, options);
            await ServerProcess.MigrateAsync(dll, database, sms.Url, logFile, options.ServerEnvironment);
            var watch = Stopwatch.StartNew();
            await (provider == "postgres"
                ? PostgresSeeder.SeedAsync(database.ConnectionString, members)
                : SqliteSeeder.SeedAsync(database.ConnectionString, members));
            seedSeconds = watch.Elapsed.TotalSeconds;
            log.WriteLine($"  seeded in {seedSeconds:F1} s");

            await using var server = await ServerProcess.StartAsync(dll, database, sms.Url, logFile, options.ServerEnvironment);
            using var run = new RunContext(options, server, server.GrpcUri, sms, members, log) { SuiteHash = hash, Database = database };
            IReadOnlyList<SignedInMember> signedIn;
            try
            {
                (signInSeconds, signedIn) = await RunScenariosAsync(run, results);
            }
            finally
            {
                rss = server.PeakRssMB();
                log.WriteLine($"  server peak RSS {rss:F0} MB");
            }

            // Why after the peak RSS is read: the figure stays that of the suite's scenarios, as the target asks.
            IReadOnlyList<ScaleResult> scale = [];
            if (ScaleComparison.CompanionSize(options, members) is { } companion)
            {
                scale = await RunPairedAsync(run, signedIn, dll, provider, companion, output);
            }

            return new RunReport(provider, members, seedSeconds, signInSeconds, rss, results, null) { Scale = scale };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Why: one broken run (a database down, a server that did not start) must not lose the others' results.
            log.WriteLine($"  run failed: {ex}");
            return new RunReport(provider, members, seedSeconds, signInSeconds, rss, results, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>
    /// The paired size comparison: a companion server on a fresh database seeded with <paramref name="companion"/>
    /// members, next to the run's own server, and <see cref="ScaleComparison"/> alternating between the two.
    /// </summary>
    private static async Task<IReadOnlyList<ScaleResult>> RunPairedAsync(
        RunContext large, IReadOnlyList<SignedInMember> largeTokens, string dll, string provider, int companion, string output)
    {
        var options = large.Options;
        var log = large.Log;
        var logFile = Path.Combine(output, "logs", $"server-{provider}-{large.Seeded}-companion-{companion}.log");
        File.Delete(logFile);
        log.WriteLine($"  paired comparison against a companion server with {companion:N0} members");
        await using var database = await BenchDatabase.CreateAsync(provider, companion, options);
        await ServerProcess.MigrateAsync(dll, database, large.Sms.Url, logFile, options.ServerEnvironment);
        await (provider == "postgres"
            ? PostgresSeeder.SeedAsync(database.ConnectionString, companion)
            : SqliteSeeder.SeedAsync(database.ConnectionString, companion));
        await using var server = await ServerProcess.StartAsync(dll, database, large.Sms.Url, logFile, options.ServerEnvironment);
        using var small = new RunContext(options, server, server.GrpcUri, large.Sms, companion, log) { Database = database };
        var smallTokens = NeedsTokens(options) ? await SignedInMembers.SignInAsync(small, options.Tokens) : [];
        return await ScaleComparison.RunAsync(small, smallTokens, large, largeTokens);
    }

    private static bool NeedsTokens(BenchOptions options) =>
        options.Runs(ScenarioNames.Validate) || options.Runs(ScenarioNames.Me) || options.Runs(ScenarioNames.PasswordVerify);

    /// <summary>
    /// Runs the selected scenarios in a fixed order (reads before the flows that add rows); returns the sign-in time and
    /// the members signed in for validate and me.
    /// </summary>
    private static async Task<(double SignInSeconds, IReadOnlyList<SignedInMember> SignedIn)> RunScenariosAsync(RunContext run, List<ScenarioResult> results)
    {
        var options = run.Options;
        results.Add(await RpcScenarios.FloorAsync(run));
        IReadOnlyList<SignedInMember> signedIn = [];
        var watch = Stopwatch.StartNew();
        if (NeedsTokens(options))
        {
            signedIn = await SignedInMembers.SignInAsync(run, Math.Max(options.Tokens, options.PasswordMembers));
            run.Log.WriteLine($"  signed in {signedIn.Count} members through the API in {watch.Elapsed.TotalSeconds:F1} s");
        }

        var signInSeconds = watch.Elapsed.TotalSeconds;
        if (options.Runs(ScenarioNames.Validate))
        {
            var peak = await RpcScenarios.ValidateAsync(run, signedIn);
            results.Add(peak);
            results.Add(await RpcScenarios.ValidateAsync(run, signedIn, ScenarioNames.ValidatePaced, Math.Max(1, peak.Throughput * options.PacedFraction)));
        }

        if (options.Runs(ScenarioNames.Me))
        {
            results.Add(await RpcScenarios.MeAsync(run, signedIn));
        }

        if (options.Runs(ScenarioNames.ReadObject))
        {
            results.Add(await RpcScenarios.ReadObjectAsync(run));
        }

        if (options.Runs(ScenarioNames.Commit))
        {
            results.Add(await CommitScenarios.CommitFloorAsync(run));
        }

        if (options.Runs(ScenarioNames.PhoneLogin))
        {
            results.Add(await FlowScenarios.PhoneLoginAsync(run));
        }

        if (options.Runs(ScenarioNames.Register))
        {
            results.Add(await FlowScenarios.RegisterAsync(run));
        }

        if (options.Runs(ScenarioNames.PasswordVerify))
        {
            results.Add(await PasswordScenarios.VerifyAsync(run, signedIn));
        }

        return (signInSeconds, signedIn);
    }

    /// <summary>The server binary: --server, else the Release build under the repository that contains this bench.</summary>
    private static string ServerDll(BenchOptions options)
    {
        var dll = options.ServerDll ?? Path.Combine(RepositoryRoot(), "src", "Pan.Server", "bin", "Release", "net10.0", "Pan.Server.dll");
        return File.Exists(dll)
            ? Path.GetFullPath(dll)
            : throw new FileNotFoundException($"No server build at {dll}; run `dotnet build -c Release src/Pan.Server` first.", dll);
    }

    private static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Pan.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("Pan.slnx not found above the working directory; pass --server.");
    }
}
