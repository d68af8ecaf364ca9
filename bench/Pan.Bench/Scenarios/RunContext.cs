using System.Diagnostics;
using System.Globalization;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Pan.Bench.Hosting;
using Pan.Bench.Load;
using Pan.General.Member;

namespace Pan.Bench.Scenarios;

/// <summary>What a scenario's throughput is divided by.</summary>
public enum FloorKind
{
    /// <summary>The scenario is the transport floor itself.</summary>
    Itself,

    /// <summary>The transport floor (gRPC health check), measured right before the scenario.</summary>
    Transport,

    /// <summary>The password floor (raw Argon2id, in-process), measured right before the scenario.</summary>
    Hash,
}

/// <summary>
/// Everything the scenarios of one (database, member count) run share: the server, a few gRPC channels (one HTTP/2
/// connection each), the SMS listener and the seeded member count.
/// </summary>
public sealed class RunContext : IDisposable
{
    private readonly GrpcChannel[] channels;
    private readonly MemberServiceV2.MemberServiceV2Client[] members;
    private readonly Health.HealthClient[] health;

    public RunContext(BenchOptions options, ServerProcess? server, Uri grpc, SmsListener sms, int seeded, TextWriter log)
    {
        Options = options;
        Server = server;
        Sms = sms;
        Seeded = seeded;
        Log = log;
        channels = [.. Enumerable.Range(0, options.Channels).Select(_ => GrpcChannel.ForAddress(grpc, new GrpcChannelOptions
        {
            // Why: one handler per channel and no extra connections, so N channels are exactly N HTTP/2 connections.
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = false,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            },
        }))];
        members = [.. channels.Select(c => new MemberServiceV2.MemberServiceV2Client(c))];
        health = [.. channels.Select(c => new Health.HealthClient(c))];
    }

    public BenchOptions Options { get; }

    public ServerProcess? Server { get; }

    public SmsListener Sms { get; }

    /// <summary>Seeded members: uids 1..Seeded, phones <see cref="Seeding.SeedRows.E164Phone"/>.</summary>
    public int Seeded { get; }

    public TextWriter Log { get; }

    /// <summary>The run's floor scenario, used instead of a probe when probes are off.</summary>
    public double? RunFloor { get; private set; }

    /// <summary>The run's database, whose own CPU use (PostgreSQL backends) is reported beside the server's.</summary>
    public BenchDatabase? Database { get; init; }

    /// <summary>The suite's hash floor, used instead of a probe when probes are off.</summary>
    public double? SuiteHash { get; init; }

    /// <summary>The member client on the worker's channel (workers are spread round-robin over the connections).</summary>
    public MemberServiceV2.MemberServiceV2Client Members(int worker) => members[worker % members.Length];

    public Health.HealthClient Health(int worker) => health[worker % health.Length];

    /// <summary>One transport-floor call: the gRPC health check, answered from a cached result.</summary>
    public Task FloorCallAsync(Worker worker)
    {
        var client = Health(worker.Index);
        return worker.CallAsync(() => client.CheckAsync(new HealthCheckRequest()));
    }

    /// <summary>
    /// Measures the floor right before a scenario, then runs the scenario's load and turns it into a result, with the
    /// server's and the bench's CPU use over the scenario.
    /// </summary>
    public async Task<ScenarioResult> MeasureAsync(
        string name, string unit, int workers, Func<Worker, Task> operation, FloorKind floor = FloorKind.Transport, bool flows = false, double? rate = null)
    {
        var floorRate = await ProbeFloorAsync(floor);
        var logBytes = Server?.LogBytes;
        var meter = await CpuMeter.StartAsync(this);
        var sample = await LoadRunner.RunAsync(workers, Options.Warmup, Options.Duration, operation, rate);
        var cpu = await meter.StopAsync(sample.CallsPerSecond);
        var result = new ScenarioResult(
            name, true, null, unit, sample.CallsPerSecond, flows ? sample.OperationsPerSecond : null, sample.Calls, sample.Errors,
            sample.P50Ms, sample.P90Ms, sample.P99Ms, sample.Seconds, workers, rate, cpu.ServerPercent, cpu.BenchPercent, cpu.DatabasePercent,
            cpu.MicrosPerCall, floor == FloorKind.Itself ? sample.CallsPerSecond : floorRate, sample.ErrorSamples)
        {
            LogBytesPerCall = Server is { } logged && logBytes is { } logBefore && sample.Calls > 0
                ? (double)(logged.LogBytes - logBefore) / sample.Calls
                : null,
        };
        if (floor == FloorKind.Itself)
        {
            RunFloor = result.Throughput;
        }

        Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-16} {result.Throughput,10:F0} {unit,-9} ratio {result.Ratio,6:F3}  p50 {result.P50Ms,7:F2} ms  p99 {result.P99Ms,7:F2} ms  errors {result.Errors}  {cpu.MicrosPerCall,5:F0} µs/call  cpu server {cpu.ServerPercent:F0}% db {(cpu.DatabasePercent is { } db ? $"{db:F0}%" : "–")} bench {cpu.BenchPercent:F0}%  log {result.LogBytesPerCall,4:F0} B/call"));
        foreach (var error in sample.ErrorSamples)
        {
            Log.WriteLine($"    error: {error}");
        }

        LogStretch(name, sample);
        return result;
    }

    /// <summary>
    /// One window of load without a floor probe and without a report line: what the paired size comparison alternates
    /// between two servers (<see cref="ScaleComparison"/>).
    /// </summary>
    public async Task<ScaleWindow> SampleAsync(int workers, TimeSpan warmup, TimeSpan duration, Func<Worker, Task> operation)
    {
        var meter = await CpuMeter.StartAsync(this);
        var sample = await LoadRunner.RunAsync(workers, warmup, duration, operation);
        var cpu = await meter.StopAsync(sample.CallsPerSecond);
        LogStretch("a paired window", sample);
        return new ScaleWindow(sample.CallsPerSecond, cpu.MicrosPerCall, sample.Errors, sample.P50Ms, sample.P99Ms, sample.ErrorSamples);
    }

    /// <summary>Says when a window had to wait past its end for its first completed call (<see cref="LoadClock"/>).</summary>
    private void LogStretch(string what, LoadSample sample)
    {
        if (sample.StretchedSeconds > 0)
        {
            Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {what}: no call completed within the window; it stayed open {sample.StretchedSeconds:F2} s longer ({sample.Calls} calls in {sample.Seconds:F2} s)"));
        }
    }

    private async Task<double?> ProbeFloorAsync(FloorKind floor)
    {
        if (floor == FloorKind.Itself)
        {
            return null;
        }

        var probe = Options.FloorProbe;
        if (probe <= TimeSpan.Zero)
        {
            return floor == FloorKind.Hash ? SuiteHash : RunFloor;
        }

        var warmup = TimeSpan.FromSeconds(Math.Min(1, probe.TotalSeconds / 3));
        var sample = floor == FloorKind.Hash
            ? await PasswordScenarios.HashLoadAsync(Options, warmup, probe)
            : await LoadRunner.RunAsync(Options.Concurrency, warmup, probe, FloorCallAsync);
        return sample.CallsPerSecond;
    }

    /// <summary>The CPU use over a load run, in percent of the whole machine, and the server + database CPU per call.</summary>
    private readonly record struct CpuUse(double? ServerPercent, double BenchPercent, double? DatabasePercent, double? MicrosPerCall);

    /// <summary>Reads the server's, PostgreSQL's and the bench's CPU time at the start of a load run and turns the difference into <see cref="CpuUse"/>.</summary>
    private sealed class CpuMeter
    {
        private readonly RunContext run;
        private readonly TimeSpan? server;
        private readonly DatabaseCpu? database;
        private readonly TimeSpan bench;
        private readonly Stopwatch wall;

        private CpuMeter(RunContext run, DatabaseCpu? database)
        {
            this.run = run;
            server = run.Server?.CpuTime;
            this.database = database;
            bench = Process.GetCurrentProcess().TotalProcessorTime;
            wall = Stopwatch.StartNew();
        }

        public static async Task<CpuMeter> StartAsync(RunContext run) =>
            new(run, run.Database is null ? null : await run.Database.CpuTimeAsync());

        /// <summary>Percentages over the wall time since the start (warm-up included, as the calls' rate is steady).</summary>
        public async Task<CpuUse> StopAsync(double callsPerSecond)
        {
            var elapsed = wall.Elapsed.TotalSeconds * Environment.ProcessorCount;
            double? serverPercent = run.Server is { } s && server is { } before ? (s.CpuTime - before).TotalSeconds / elapsed * 100 : null;
            var benchPercent = (Process.GetCurrentProcess().TotalProcessorTime - bench).TotalSeconds / elapsed * 100;
            double? databasePercent = run.Database is null || database is not { } dbBefore || await run.Database.CpuTimeAsync() is not { } dbAfter
                ? null
                : dbAfter.Since(dbBefore).TotalSeconds / elapsed * 100;
            double? perCall = serverPercent is { } sp && callsPerSecond > 0
                ? (sp + (databasePercent ?? 0)) / 100 * Environment.ProcessorCount / callsPerSecond * 1e6
                : null;
            return new CpuUse(serverPercent, benchPercent, databasePercent, perCall);
        }
    }

    public void Dispose()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }
}
