using System.Globalization;
using Pan.Bench.Load;

namespace Pan.Bench.Scenarios;

/// <summary>One round of a paired floor check: a window of the floor and a window of the scenario, back to back.</summary>
/// <param name="FloorFirst">Whether the floor's window ran first in this round.</param>
/// <param name="Floor">The floor's throughput in its window.</param>
/// <param name="Scenario">The scenario's throughput, errors and cost in its window.</param>
public sealed record FloorRound(bool FloorFirst, double Floor, ScaleWindow Scenario);

/// <summary>
/// A scenario and its floor measured in alternating windows of equal length (floor-scenario, scenario-floor, …), so that
/// the machine's drift and the noise of any one window weigh on both sides alike.
/// </summary>
/// <remarks>
/// Why password-verify is measured so: its floor is a memory-bound hash whose rate on this shared machine moves by ±15 %
/// from one 3-second window to the next with nothing else running (BENCHMARKS.md change 33), more than the margin the
/// target leaves, so one probe before one window decides the ratio as much as Pan does.
/// </remarks>
public sealed record FloorPairing(IReadOnlyList<FloorRound> Rounds)
{
    /// <summary>The scenario's throughput over the floor's, summed over the rounds (equal windows).</summary>
    public double? Ratio => Rounds.Sum(r => r.Floor) is > 0 and var floor ? Rounds.Sum(r => r.Scenario.Throughput) / floor : null;

    public long Errors => Rounds.Sum(r => r.Scenario.Errors);

    /// <summary>
    /// Runs <see cref="BenchOptions.PasswordRounds"/> rounds of <paramref name="floor"/> and <paramref name="scenario"/>,
    /// each window <see cref="BenchOptions.PasswordWindow"/> long after a short warm-up; the first round starts with the floor.
    /// </summary>
    public static async Task<FloorPairing> RunAsync(
        RunContext run, string name, Func<TimeSpan, TimeSpan, Task<LoadSample>> floor, int workers, Func<Worker, Task> scenario)
    {
        var options = run.Options;
        var warmup = TimeSpan.FromSeconds(Math.Min(0.5, options.Warmup.TotalSeconds));
        var rounds = new List<FloorRound>();
        for (var i = 0; i < options.PasswordRounds; i++)
        {
            var floorFirst = i % 2 == 0;
            double floorRate = 0;
            ScaleWindow? window = null;
            foreach (var floorNow in floorFirst ? new[] { true, false } : [false, true])
            {
                if (floorNow)
                {
                    floorRate = (await floor(warmup, options.PasswordWindow)).CallsPerSecond;
                }
                else
                {
                    window = await run.SampleAsync(workers, warmup, options.PasswordWindow, scenario);
                }
            }

            rounds.Add(new FloorRound(floorFirst, floorRate, window!));
        }

        var pairing = new FloorPairing(rounds);
        run.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  paired {name,-16} {pairing.Ratio:F3} × floor ({rounds.Count} rounds; {string.Join(" ", rounds.Select(r => $"{r.Floor:F0}/{r.Scenario.Throughput:F0}"))})  errors {pairing.Errors}"));
        foreach (var error in rounds.SelectMany(r => r.Scenario.ErrorSamples).Distinct().Take(5))
        {
            run.Log.WriteLine($"    error: {error}");
        }

        return pairing;
    }
}
