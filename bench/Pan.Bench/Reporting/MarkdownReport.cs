using System.Globalization;
using System.Text;
using Pan.Bench.Scenarios;

namespace Pan.Bench.Reporting;

/// <summary>Renders a <see cref="BenchReport"/> as the Markdown that BENCHMARKS.md quotes.</summary>
public static class MarkdownReport
{
    public static string Render(BenchReport report)
    {
        var md = new StringBuilder();
        var s = report.Settings;
        var m = report.Machine;
        Line(md, $"Measured {report.Started:yyyy-MM-dd HH:mm} UTC in {report.TotalSeconds / 60:F1} min on {m.Cpu}, {m.Cores} cores, {m.MemoryGB:F0} GB RAM, {m.Os}, {m.Runtime}; server and load generator on the same machine.");
        Line(md, $"Load average (1/5/15 min) before: {m.LoadBefore}; after: {m.LoadAfter}.{(s.Note is null ? string.Empty : " Note: " + s.Note)}");
        md.AppendLine();
        Line(md, $"Command: `{report.Command}`");
        md.AppendLine();
        Line(md, $"Each scenario: {s.WarmupSeconds:0.#} s warm-up, {s.DurationSeconds:0.#} s measured; {s.Channels} HTTP/2 connections; {s.Concurrency} calls in flight (floor, validate, me, read-object), {s.FlowConcurrency} flows (phone-login, register), {s.PasswordConcurrency} calls (password-verify); read-object asks for {s.ReadBatch} uids; validate/me use {s.Tokens} members signed in through the API. Hash floor: Argon2id m={s.HashMemoryKiB} KiB, t={s.HashIterations}, one thread per core.");
        md.AppendLine();
        if (report.Hash is { } hash)
        {
            Line(md, $"**Password floor (hash):** {hash.Throughput:F1} hashes/s (p50 {hash.P50Ms:F1} ms per hash).");
            md.AppendLine();
        }

        Line(md, $"Ratio = throughput ÷ the floor measured right before the scenario ({(s.FloorProbeSeconds > 0 ? $"{s.FloorProbeSeconds:0.#} s probe" : "the run's floor row")}): the transport floor (gRPC health check) for RPC scenarios, the hash floor for password-verify. Flows count every RPC. CPU is in percent of the whole machine (server = the Pan process, which includes SQLite; db = PostgreSQL's backends for the run's database); CPU µs/call = (server + db CPU) ÷ calls, the cost of one call. Log B/call = bytes the server logged ÷ calls (warm-up included in the bytes, not in the calls).");
        md.AppendLine();
        md.AppendLine("| database | members | scenario | throughput | unit | flows/s | p50 ms | p90 ms | p99 ms | errors | floor /s | ratio | server CPU | db CPU | bench CPU | CPU µs/call | log B/call |");
        md.AppendLine("|---|--:|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var run in report.Runs)
        {
            foreach (var r in run.Scenarios)
            {
                var ratio = r.Ratio;
                var floor = ScenarioNames.FloorOf(r.Name);
                if (r.Available)
                {
                    var ratioText = r.Name == floor ? "1 (floor)" : Opt(ratio, "F3") + (floor == ScenarioNames.Hash ? " × hash" : string.Empty);
                    var name = r.TargetRate is { } rate ? $"{r.Name} (at {rate:F0}/s)" : r.Name;
                    Line(md, $"| {run.Database} | {run.Members:N0} | {name} | {r.Throughput:F0} | {r.Unit} | {Opt(r.FlowsPerSecond, "F0")} | {r.P50Ms:F2} | {r.P90Ms:F2} | {r.P99Ms:F2} | {r.Errors} | {Opt(r.FloorThroughput, "F0")} | {ratioText} | {Opt(r.ServerCpuPercent, "F0")}% | {Pct(r.DatabaseCpuPercent)} | {Opt(r.BenchCpuPercent, "F0")}% | {Opt(r.CpuMicrosPerCall, "F0")} | {Opt(r.LogBytesPerCall, "F0")} |");
                }
                else
                {
                    Line(md, $"| {run.Database} | {run.Members:N0} | {r.Name} | – | | | | | | | | {r.Reason} | | | | | |");
                }
            }
        }

        md.AppendLine();
        md.AppendLine("| database | members | seeding | sign-in of token members | server peak RSS | failure |");
        md.AppendLine("|---|--:|--:|--:|--:|---|");
        foreach (var run in report.Runs)
        {
            Line(md, $"| {run.Database} | {run.Members:N0} | {run.SeedSeconds:F1} s | {run.SignInSeconds:F1} s | {Opt(run.PeakRssMB, "F0")} MB | {run.Failure ?? string.Empty} |");
        }

        var paired = report.Runs.SelectMany(r => r.Scale.Select(x => (r.Database, Result: x))).ToList();
        if (paired.Count > 0)
        {
            md.AppendLine();
            Line(md, $"Paired size comparison: a companion server on a fresh database with the smaller member count runs beside the larger part's server, and each scenario alternates between the two in {s.ScaleRounds} rounds of one {s.ScaleWindowSeconds:0.#} s window on each (the first server of a round alternates; the companion warmed up {s.ScaleWarmupSeconds:0.#} s per scenario). Throughput is summed over the rounds; cost = server + db CPU per call.");
            md.AppendLine();
            md.AppendLine("| database | scenario | members | throughput per window (small / large) | throughput large ÷ small | CPU µs/call small → large | cost large ÷ small | errors |");
            md.AppendLine("|---|---|---|---|--:|--:|--:|--:|");
            foreach (var (database, x) in paired)
            {
                var windows = string.Join(" · ", x.Rounds.Select(r => $"{r.Small.Throughput:F0} / {r.Large.Throughput:F0}"));
                var cost = x.Rounds.All(r => r.Small.CpuMicrosPerCall is not null && r.Large.CpuMicrosPerCall is not null)
                    ? $"{x.Rounds.Average(r => r.Small.CpuMicrosPerCall!.Value):F0} → {x.Rounds.Average(r => r.Large.CpuMicrosPerCall!.Value):F0}"
                    : "–";
                Line(md, $"| {database} | {x.Scenario} | {x.SmallMembers:N0} / {x.LargeMembers:N0} | {windows} | {Opt(x.ThroughputRatio, "F3")} | {cost} | {Opt(x.CostRatio, "F3")} | {x.Errors} |");
            }
        }

        var floorPaired = report.Runs.SelectMany(r => r.Scenarios.Where(x => x.Paired is not null).Select(x => (Run: r, Result: x))).ToList();
        if (floorPaired.Count > 0)
        {
            md.AppendLine();
            Line(md, $"Paired password check: the hash floor (in the bench, the server idle) and password-verify alternate in {s.PasswordRounds} rounds of one {s.PasswordWindowSeconds:0.#} s window each (the first of a round alternates, floor first); ratio = password-verify's calls summed over the rounds ÷ the floor's hashes. The target is judged on this ratio.");
            md.AppendLine();
            md.AppendLine("| database | members | scenario | per round: floor / scenario | ratio | CPU µs/call | errors |");
            md.AppendLine("|---|--:|---|---|--:|--:|--:|");
            foreach (var (run, x) in floorPaired)
            {
                var p = x.Paired!;
                var rounds = string.Join(" · ", p.Rounds.Select(r => $"{r.Floor:F1} / {r.Scenario.Throughput:F1}"));
                var cost = p.Rounds.All(r => r.Scenario.CpuMicrosPerCall is not null)
                    ? p.Rounds.Average(r => r.Scenario.CpuMicrosPerCall!.Value).ToString("F0", CultureInfo.InvariantCulture)
                    : "–";
                Line(md, $"| {run.Database} | {run.Members:N0} | {x.Name} | {rounds} | {Opt(p.Ratio, "F3")} | {cost} | {p.Errors} |");
            }
        }

        md.AppendLine();
        md.AppendLine("| target | where | measured | result |");
        md.AppendLine("|---|---|--:|---|");
        foreach (var check in Targets.Evaluate(report))
        {
            Line(md, $"| {check.Target} | {check.Database} | {check.Measured} | {check.Passed switch { true => "pass", false => "**MISS**", null => "n/a" }} |");
        }

        return md.ToString();
    }

    private static string Pct(double? value) => value is { } v ? v.ToString("F0", CultureInfo.InvariantCulture) + "%" : "–";

    private static string Opt(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "–";

    private static void Line(StringBuilder md, FormattableString text) => md.AppendLine(text.ToString(CultureInfo.InvariantCulture));
}
