using System.Globalization;
using Pan.Bench.Load;

namespace Pan.Bench.Scenarios;

/// <summary>One window of load on one server: throughput (calls/s; RPCs/s for flows) and server + database CPU per call.</summary>
public sealed record ScaleWindow(double Throughput, double? CpuMicrosPerCall, long Errors, double P50Ms, double P99Ms, IReadOnlyList<string> ErrorSamples);

/// <summary>One round of the paired comparison: a window on each server, back to back, in the order given.</summary>
public sealed record ScaleRound(bool SmallFirst, ScaleWindow Small, ScaleWindow Large);

/// <summary>
/// A scenario measured in alternating windows on two servers that differ only in their seeded member count. Rounds
/// alternate which server goes first (small-large, large-small, …), so a steady drift of the machine's speed weighs on
/// both sides alike.
/// </summary>
public sealed record ScaleResult(string Scenario, int SmallMembers, int LargeMembers, IReadOnlyList<ScaleRound> Rounds)
{
    /// <summary>The large server's throughput over the small one's, summed over the rounds (equal windows).</summary>
    public double? ThroughputRatio => Sum(r => r.Small.Throughput) is > 0 and var small ? Sum(r => r.Large.Throughput) / small : null;

    /// <summary>The large server's mean CPU per call over the small one's.</summary>
    public double? CostRatio => Rounds.Count > 0 && Rounds.All(r => r.Small.CpuMicrosPerCall is > 0 && r.Large.CpuMicrosPerCall is not null)
        ? Sum(r => r.Large.CpuMicrosPerCall!.Value) / Sum(r => r.Small.CpuMicrosPerCall!.Value)
        : null;

    public long Errors => Rounds.Sum(r => r.Small.Errors + r.Large.Errors);

    private double Sum(Func<ScaleRound, double> value) => Rounds.Sum(value);
}

/// <summary>
/// The 1M-against-10k check, measured so that the machine's drift cannot decide it: beside the largest member count's
/// server a second server runs on a fresh database with the smallest count, and validate, me and phone-login alternate
/// between the two in short windows. Each (database, count) part of the suite runs minutes after the other, and on this
/// shared machine the floor itself moves by more than the 10 % the target allows between parts (BENCHMARKS.md).
/// </summary>
public static class ScaleComparison
{
    /// <summary>The scenarios whose throughput must not depend on the member count.</summary>
    public static readonly IReadOnlyList<string> Scenarios = [ScenarioNames.Validate, ScenarioNames.Me, ScenarioNames.PhoneLogin];

    /// <summary>
    /// The member count of the companion server for a part with <paramref name="members"/> members, or null when that
    /// part gets no paired comparison: only the largest count's part does, against <see cref="BenchOptions.ScaleMembers"/>
    /// (default: the smallest count, when more than one is run).
    /// </summary>
    public static int? CompanionSize(BenchOptions options, int members)
    {
        if (!Scenarios.Any(options.Runs) || members != options.MemberCounts.Max())
        {
            return null;
        }

        var small = options.ScaleMembers ?? (options.MemberCounts.Count > 1 ? options.MemberCounts.Min() : 0);
        return small > 0 && small < members ? small : null;
    }

    public static async Task<IReadOnlyList<ScaleResult>> RunAsync(
        RunContext small, IReadOnlyList<SignedInMember> smallTokens, RunContext large, IReadOnlyList<SignedInMember> largeTokens)
    {
        var options = large.Options;
        var window = Math.Min(1, options.Warmup.TotalSeconds);
        var results = new List<ScaleResult>();
        foreach (var scenario in Scenarios.Where(options.Runs))
        {
            var (workers, smallOperation, largeOperation) = scenario switch
            {
                ScenarioNames.Validate => (options.Concurrency, RpcScenarios.ValidateCall(small, smallTokens), RpcScenarios.ValidateCall(large, largeTokens)),
                ScenarioNames.Me => (options.Concurrency, RpcScenarios.MeCall(small, smallTokens), RpcScenarios.MeCall(large, largeTokens)),
                _ => (Math.Min(FlowScenarios.PhoneLoginWorkers(small), FlowScenarios.PhoneLoginWorkers(large)),
                    FlowScenarios.PhoneLoginFlow(small), FlowScenarios.PhoneLoginFlow(large)),
            };

            // Why a longer warm-up on the companion: it is a fresh process whose JIT needs seconds of a scenario to reach
            // its optimised code (tier-up), which the large part's server did in its own scenarios.
            await LoadRunner.RunAsync(workers, options.ScaleWarmup, TimeSpan.Zero, smallOperation);
            await LoadRunner.RunAsync(workers, options.Warmup, TimeSpan.Zero, largeOperation);
            var rounds = new List<ScaleRound>();
            for (var i = 0; i < options.ScaleRounds; i++)
            {
                var smallFirst = i % 2 == 0;
                ScaleWindow first = await Window(smallFirst ? small : large, smallFirst ? smallOperation : largeOperation);
                ScaleWindow second = await Window(smallFirst ? large : small, smallFirst ? largeOperation : smallOperation);
                rounds.Add(smallFirst ? new ScaleRound(true, first, second) : new ScaleRound(false, second, first));
            }

            var result = new ScaleResult(scenario, small.Seeded, large.Seeded, rounds);
            results.Add(result);
            large.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  paired {scenario,-11} {large.Seeded:N0} vs {small.Seeded:N0}: throughput {result.ThroughputRatio:F3} ×, cost per call {result.CostRatio:F3} × ({rounds.Count} rounds; {string.Join(" ", rounds.Select(r => $"{r.Small.Throughput:F0}/{r.Large.Throughput:F0}"))})  errors {result.Errors}"));
            foreach (var error in rounds.SelectMany(r => r.Small.ErrorSamples.Concat(r.Large.ErrorSamples)).Distinct().Take(5))
            {
                large.Log.WriteLine($"    error: {error}");
            }

            Task<ScaleWindow> Window(RunContext run, Func<Worker, Task> operation) =>
                run.SampleAsync(workers, TimeSpan.FromSeconds(window), options.ScaleWindow, operation);
        }

        return results;
    }
}
