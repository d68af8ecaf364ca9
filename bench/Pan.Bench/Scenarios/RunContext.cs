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
        var serverCpu = Server?.CpuTime;
        var logBytes = Server?.LogBytes;
        var databaseCpu = Database is null ? null : await Database.CpuTimeAsync();
        var benchCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var sample = await LoadRunner.RunAsync(workers, Options.Warmup, Options.Duration, operation, rate);
        var elapsed = wall.Elapsed.TotalSeconds * Environment.ProcessorCount;
        double? serverPercent = Server is { } s && serverCpu is { } before ? (s.CpuTime - before).TotalSeconds / elapsed * 100 : null;
        var benchPercent = (Process.GetCurrentProcess().TotalProcessorTime - benchCpu).TotalSeconds / elapsed * 100;
        double? databasePercent = Database is null || databaseCpu is not { } dbBefore || await Database.CpuTimeAsync() is not { } dbAfter
            ? null
            : (dbAfter - dbBefore).TotalSeconds / elapsed * 100;
        double? perCall = serverPercent is { } sp && sample.CallsPerSecond > 0
            ? (sp + (databasePercent ?? 0)) / 100 * Environment.ProcessorCount / sample.CallsPerSecond * 1e6
            : null;
        var result = new ScenarioResult(
            name, true, null, unit, sample.CallsPerSecond, flows ? sample.OperationsPerSecond : null, sample.Calls, sample.Errors,
            sample.P50Ms, sample.P90Ms, sample.P99Ms, sample.Seconds, workers, rate, serverPercent, benchPercent, databasePercent, perCall,
            floor == FloorKind.Itself ? sample.CallsPerSecond : floorRate, sample.ErrorSamples)
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
            $"  {name,-16} {result.Throughput,10:F0} {unit,-9} ratio {result.Ratio,6:F3}  p50 {result.P50Ms,7:F2} ms  p99 {result.P99Ms,7:F2} ms  errors {result.Errors}  {perCall,5:F0} µs/call  cpu server {serverPercent:F0}% db {(databasePercent is { } db ? $"{db:F0}%" : "–")} bench {benchPercent:F0}%  log {result.LogBytesPerCall,4:F0} B/call"));
        foreach (var error in sample.ErrorSamples)
        {
            Log.WriteLine($"    error: {error}");
        }

        return result;
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

    public void Dispose()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }
}
