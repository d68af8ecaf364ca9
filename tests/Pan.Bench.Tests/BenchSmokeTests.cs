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

        Assert.True(File.Exists(Path.Combine(output.FullName, "results.json")));
        Assert.Contains("| sqlite | 300 | validate |", await File.ReadAllTextAsync(Path.Combine(output.FullName, "results.md")), StringComparison.Ordinal);
    }

    public void Dispose() => output.Delete(recursive: true);

    private static string ServerDll() =>
        typeof(BenchSmokeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "PanServerDll").Value!;
}
