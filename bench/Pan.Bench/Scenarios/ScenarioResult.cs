namespace Pan.Bench.Scenarios;

/// <summary>The scenario names, as given to <c>--scenarios</c> and written in the report.</summary>
public static class ScenarioNames
{
    public const string Floor = "floor";
    public const string Validate = "validate";
    public const string ValidatePaced = "validate@70%";
    public const string Me = "me";
    public const string ReadObject = "read-object";
    public const string PhoneLogin = "phone-login";
    public const string Register = "register";
    public const string PasswordVerify = "password-verify";
    public const string Hash = "hash";
    public const string Commit = "commit";

    public static readonly IReadOnlyList<string> All = [Floor, Validate, Me, ReadObject, Commit, PhoneLogin, Register, PasswordVerify, Hash];

    /// <summary>The floor a scenario's throughput is divided by: the hash rate for password-verify, the transport otherwise.</summary>
    public static string FloorOf(string scenario) => scenario switch
    {
        Floor or Hash => scenario,
        PasswordVerify => Hash,
        _ => Floor,
    };
}

/// <summary>What one scenario measured, or why it could not run.</summary>
/// <param name="Unit">What <see cref="Throughput"/> counts: calls/s, RPCs/s (flows: every RPC of every flow) or hashes/s.</param>
/// <param name="FlowsPerSecond">Completed flows per second (phone-login, register).</param>
/// <param name="TargetRate">The requested rate of a rate-limited pass.</param>
/// <param name="ServerCpuPercent">The server's CPU use over the run, in percent of the whole machine.</param>
/// <param name="BenchCpuPercent">The load generator's own CPU use, in percent of the whole machine.</param>
/// <param name="DatabaseCpuPercent">PostgreSQL's backends for this database, in percent of the whole machine (SQLite runs inside the server).</param>
/// <param name="CpuMicrosPerCall">
/// Server plus database CPU time per call (per RPC for flows), in microseconds: the cost of one call, which moves less
/// than throughput when other work shares the machine.
/// </param>
/// <param name="FloorThroughput">
/// The floor this scenario is divided by, measured right before it (the transport floor, or the hash floor for
/// password-verify), so that a change in the machine's load between scenarios does not skew the ratio.
/// </param>
public sealed record ScenarioResult(
    string Name,
    bool Available,
    string? Reason,
    string Unit,
    double Throughput,
    double? FlowsPerSecond,
    long Calls,
    long Errors,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double Seconds,
    int Workers,
    double? TargetRate,
    double? ServerCpuPercent,
    double? BenchCpuPercent,
    double? DatabaseCpuPercent,
    double? CpuMicrosPerCall,
    double? FloorThroughput,
    IReadOnlyList<string> ErrorSamples)
{
    /// <summary>Bytes the server logged per call (per RPC for flows) over the scenario, warm-up included; null without a server process.</summary>
    public double? LogBytesPerCall { get; init; }

    /// <summary>The scenario and its floor in alternating windows, where the scenario is measured so (password-verify).</summary>
    public FloorPairing? Paired { get; init; }

    /// <summary>Throughput divided by <see cref="FloorThroughput"/>.</summary>
    public double? Ratio => Available && FloorThroughput is > 0 ? Throughput / FloorThroughput : null;

    public static ScenarioResult NotAvailable(string name, string unit, string reason) =>
        new(name, false, reason, unit, 0, null, 0, 0, 0, 0, 0, 0, 0, null, null, null, null, null, null, []);
}
