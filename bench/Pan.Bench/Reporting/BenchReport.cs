using System.Globalization;
using System.Runtime.InteropServices;
using Pan.Bench.Scenarios;

namespace Pan.Bench.Reporting;

/// <summary>Everything one bench invocation measured; written as results.json and rendered as results.md.</summary>
public sealed record BenchReport(
    DateTimeOffset Started,
    double TotalSeconds,
    MachineInfo Machine,
    string Command,
    BenchSettings Settings,
    ScenarioResult? Hash,
    IReadOnlyList<RunReport> Runs);

/// <summary>One (database, member count) run on a fresh database and a fresh server.</summary>
/// <param name="PeakRssMB">The server's peak resident set (VmHWM) at the end of the run, in MB (10^6 bytes).</param>
/// <param name="Failure">Why the run stopped early, if it did; the scenarios measured before that are kept.</param>
public sealed record RunReport(
    string Database,
    int Members,
    double SeedSeconds,
    double SignInSeconds,
    double? PeakRssMB,
    IReadOnlyList<ScenarioResult> Scenarios,
    string? Failure)
{
    /// <summary>The paired size comparison, run in the largest member count's part (empty elsewhere).</summary>
    public IReadOnlyList<ScaleResult> Scale { get; init; } = [];

    public ScenarioResult? Find(string name) => Scenarios.FirstOrDefault(s => s.Name == name);

    /// <summary>The scenario's throughput divided by the floor measured right before it.</summary>
    public double? Ratio(string name) => Find(name)?.Ratio;
}

/// <summary>The options that shape the numbers.</summary>
public sealed record BenchSettings(
    double DurationSeconds,
    double WarmupSeconds,
    double FloorProbeSeconds,
    int Concurrency,
    int FlowConcurrency,
    int PasswordConcurrency,
    int PasswordRounds,
    double PasswordWindowSeconds,
    int Channels,
    int Tokens,
    int ReadBatch,
    int HashMemoryKiB,
    int HashIterations,
    int ScaleRounds,
    double ScaleWindowSeconds,
    double ScaleWarmupSeconds,
    string? Note)
{
    public static BenchSettings From(BenchOptions o) => new(
        o.Duration.TotalSeconds, o.Warmup.TotalSeconds, o.FloorProbe.TotalSeconds, o.Concurrency, o.FlowConcurrency, o.PasswordConcurrency, o.PasswordRounds,
        o.PasswordWindow.TotalSeconds, o.Channels,
        o.Tokens, o.ReadBatch, o.HashMemoryKiB, o.HashIterations, o.ScaleRounds, o.ScaleWindow.TotalSeconds, o.ScaleWarmup.TotalSeconds, o.Note);
}

/// <summary>The machine the run was on, and how busy it was before and after (load average of 1, 5, 15 minutes).</summary>
public sealed record MachineInfo(string Cpu, int Cores, double MemoryGB, string Os, string Runtime, string LoadBefore, string LoadAfter)
{
    public static MachineInfo Capture(string loadBefore) => new(
        CpuModel(),
        Environment.ProcessorCount,
        Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9, 1),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        loadBefore,
        LoadAverage());

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string CpuModel()
    {
        var line = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
            : null;
        return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString().ToLower(CultureInfo.InvariantCulture);
    }
}
