using System.Reflection;
using Pan.Bench;
using Pan.Bench.Scenarios;

namespace Pan.Bench.Tests;

/// <summary>
/// Runs the bench's own entry point end to end — hash floor, a fresh SQLite database migrated by the server, bulk seed,
/// the server as a child process, every scenario — with durations of about a second. Asserts results, never timings.
/// </summary>
public sealed class BenchSmokeTests : IDisposable
{
    private readonly DirectoryInfo output = Directory.CreateTempSubdirectory("pan-bench-smoke-");

    [Fact]
    public async Task SmokeRun_OnSqlite_MeasuresEveryAvailableScenarioWithoutErrors()
    {
        var options = new BenchOptions
        {
            Databases = ["sqlite"],
            MemberCounts = [300],
            Duration = TimeSpan.FromSeconds(1),
            Warmup = TimeSpan.FromSeconds(0.3),
            Concurrency = 4,
            FlowConcurrency = 2,
            PasswordConcurrency = 2,
            Tokens = 6,
            PasswordMembers = 2,
            // The paired password check: the hash floor and password-verify in alternating windows.
            PasswordRounds = 2,
            PasswordWindow = TimeSpan.FromSeconds(0.5),
            // The paired size comparison, against a companion server with fewer members.
            ScaleMembers = 100,
            ScaleRounds = 2,
            ScaleWindow = TimeSpan.FromSeconds(0.5),
            // Why 2 s: the companion is a fresh server whose first phone flow (cold JIT, first writes) can outlast a short
            // warm-up and leave the first 0.5 s window without a call.
            ScaleWarmup = TimeSpan.FromSeconds(2),
            // Why: the hash floor's cost is not what this test checks; 1 MiB keeps it light.
            HashMemoryKiB = 1024,
            ServerDll = ServerDll(),
            OutputDirectory = output.FullName,
        };
        using var log = new StringWriter();

        var report = await BenchRunner.RunAsync(options, "smoke", log);

        var run = Assert.Single(report.Runs);
        Assert.True(run.Failure is null, $"{run.Failure}\n{log}");
        Assert.NotNull(run.PeakRssMB);
        Assert.True(report.Hash is { Calls: > 0, Errors: 0 }, log.ToString());
        var expected = ScenarioNames.All.Where(s => s != ScenarioNames.Hash).Append(ScenarioNames.ValidatePaced);
        Assert.Equal(expected.Order(), run.Scenarios.Select(s => s.Name).Order());
        foreach (var scenario in run.Scenarios)
        {
            if (!scenario.Available)
            {
                // Only the credentials feature may be missing (it is built on another branch).
                Assert.Equal(ScenarioNames.PasswordVerify, scenario.Name);
                continue;
            }

            Assert.True(scenario.Calls > 0, $"{scenario.Name} made no calls\n{log}");
            Assert.True(scenario.Errors == 0, $"{scenario.Name}: {string.Join("; ", scenario.ErrorSamples)}\n{log}");
        }

        // The Production server the bench starts writes no line per request: a health check logs nothing.
        var floor = run.Scenarios.Single(s => s.Name == ScenarioNames.Floor);
        Assert.True(floor.LogBytesPerCall is < 1, $"the server logged {floor.LogBytesPerCall} bytes per health check\n{log}");

        // Validate, me and phone-login alternated between the 300-member server and a 100-member companion.
        Assert.Equal(ScaleComparison.Scenarios, run.Scale.Select(x => x.Scenario));
        foreach (var paired in run.Scale)
        {
            Assert.Equal((100, 300), (paired.SmallMembers, paired.LargeMembers));
            Assert.Equal([true, false], paired.Rounds.Select(r => r.SmallFirst));
            var windows = paired.Rounds.SelectMany(r => new[] { r.Small, r.Large }).ToList();
            Assert.True(windows.All(w => w.Throughput > 0 && w.CpuMicrosPerCall > 0), $"{paired.Scenario}: a window without calls\n{log}");
            Assert.True(paired.Errors == 0, $"{paired.Scenario}: {string.Join("; ", windows.SelectMany(w => w.ErrorSamples))}\n{log}");
            Assert.NotNull(paired.ThroughputRatio);
        }

        // Password-verify and the hash floor alternated, floor first in the first round.
        var verify = run.Scenarios.Single(s => s.Name == ScenarioNames.PasswordVerify);
        var pairing = Assert.IsType<FloorPairing>(verify.Paired);
        Assert.Equal([true, false], pairing.Rounds.Select(r => r.FloorFirst));
        Assert.True(pairing.Rounds.All(r => r.Floor > 0 && r.Scenario.Throughput > 0), $"password-verify: a window without calls\n{log}");
        Assert.True(pairing.Errors == 0, $"password-verify: {string.Join("; ", pairing.Rounds.SelectMany(r => r.Scenario.ErrorSamples))}\n{log}");
        Assert.NotNull(pairing.Ratio);

        Assert.True(File.Exists(Path.Combine(output.FullName, "results.json")));
        var markdown = await File.ReadAllTextAsync(Path.Combine(output.FullName, "results.md"));
        Assert.Contains("| sqlite | 300 | validate |", markdown, StringComparison.Ordinal);
        Assert.Contains("| sqlite | phone-login | 100 / 300 |", markdown, StringComparison.Ordinal);
        Assert.Contains("phone-login at 300: throughput ≥ 0.9 × at 100 (paired windows)", markdown, StringComparison.Ordinal);
        Assert.Contains("| sqlite | 300 | password-verify |", markdown, StringComparison.Ordinal);
        Assert.Contains("| password-verify ≥ 0.8 × hash (paired windows) | sqlite 300 |", markdown, StringComparison.Ordinal);
    }

    public void Dispose() => output.Delete(recursive: true);

    private static string ServerDll() =>
        typeof(BenchSmokeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "PanServerDll").Value!;
}
