namespace Pan.Bench;

/// <summary>What one bench run does. Every duration and count is configurable so tests can run it in seconds.</summary>
public sealed record BenchOptions
{
    /// <summary>Databases to run on: <c>sqlite</c>, <c>postgres</c>.</summary>
    public IReadOnlyList<string> Databases { get; init; } = ["sqlite"];

    /// <summary>Seeded member counts; each (database, count) pair gets a fresh database and a fresh server.</summary>
    public IReadOnlyList<int> MemberCounts { get; init; } = [10_000];

    /// <summary>Scenarios to run (see <see cref="Scenarios.ScenarioNames"/>); the floors always run.</summary>
    public IReadOnlyList<string> Scenarios { get; init; } = Pan.Bench.Scenarios.ScenarioNames.All;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Length of the floor measured right before each scenario (after a short warm-up); its rate is what the scenario
    /// is divided by. Zero: divide by the run's floor scenario (and the suite's hash floor) instead.
    /// </summary>
    public TimeSpan FloorProbe { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Calls in flight for the single-RPC scenarios (floor, validate, me, read-object).</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>Flows in flight for phone-login and register.</summary>
    public int FlowConcurrency { get; init; } = 16;

    /// <summary>Calls in flight for password-verify (the server caps hashing at its core count; more only queue).</summary>
    public int PasswordConcurrency { get; init; } = 8;

    /// <summary>gRPC channels, each one HTTP/2 connection; calls are spread over them.</summary>
    public int Channels { get; init; } = 2;

    /// <summary>Members signed in through the API (phone login, then AccessToken) for validate and me.</summary>
    public int Tokens { get; init; } = 200;

    /// <summary>
    /// Rounds of the paired password check: password-verify and the hash floor in alternating windows
    /// (<see cref="Scenarios.FloorPairing"/>); 0 leaves the target to the probe before the single window.
    /// </summary>
    public int PasswordRounds { get; init; } = 4;

    /// <summary>Measured length of one window of the paired password check.</summary>
    public TimeSpan PasswordWindow { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Members given a password for password-verify.</summary>
    public int PasswordMembers { get; init; } = 16;

    /// <summary>Ids per ReadObject call.</summary>
    public int ReadBatch { get; init; } = 20;

    /// <summary>Fraction of validate's peak for the rate-limited latency pass.</summary>
    public double PacedFraction { get; init; } = 0.7;

    /// <summary>
    /// Member count of the companion server for the paired size comparison (<see cref="Scenarios.ScaleComparison"/>),
    /// run in the largest count's part. Null: the smallest count when more than one is run; 0: no comparison.
    /// </summary>
    public int? ScaleMembers { get; init; }

    /// <summary>Rounds of the paired comparison; each is one window on each server.</summary>
    public int ScaleRounds { get; init; } = 4;

    /// <summary>Measured length of one window of the paired comparison.</summary>
    public TimeSpan ScaleWindow { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Warm-up of the companion server before each scenario of the paired comparison.</summary>
    public TimeSpan ScaleWarmup { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Argon2id memory in KiB and passes, for the hash floor.</summary>
    public int HashMemoryKiB { get; init; } = 19_456;

    public int HashIterations { get; init; } = 2;

    /// <summary>The Release build of the server; default: src/Pan.Server/bin/Release/net10.0/Pan.Server.dll under the repository.</summary>
    public string? ServerDll { get; init; }

    /// <summary>Admin connection string of the PostgreSQL server that gets a fresh database per run.</summary>
    public string PostgresAdmin { get; init; } = "Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres";

    /// <summary>Extra keywords for the server's PostgreSQL connection string (e.g. "Max Auto Prepare=20"), to try tuning.</summary>
    public string? PostgresOptions { get; init; }

    /// <summary>Folder for results.md, results.json and the servers' logs.</summary>
    public string OutputDirectory { get; init; } = "bench/results";

    /// <summary>Extra server settings as environment variables (e.g. a log level while investigating); applied last.</summary>
    public IReadOnlyDictionary<string, string> ServerEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Free-form note written into the report (e.g. "other builds were running").</summary>
    public string? Note { get; init; }

    public bool Runs(string scenario) => Scenarios.Contains(scenario);
}
