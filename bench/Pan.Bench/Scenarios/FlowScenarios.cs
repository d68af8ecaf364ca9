using Pan.Bench.Load;

namespace Pan.Bench.Scenarios;

/// <summary>Full phone flows: every phase is an RPC, and throughput counts RPCs (flows/s is reported beside it).</summary>
public static class FlowScenarios
{
    public const string Rpcs = "RPCs/s";

    /// <summary>
    /// Login CHECK_EXISTENCE → code from the webhook → INPUT_CODE, on random seeded members. Each worker owns the
    /// phones whose index is its own modulo the worker count, so no two flows ever wait for a code on the same phone.
    /// </summary>
    public static Task<ScenarioResult> PhoneLoginAsync(RunContext run) =>
        run.MeasureAsync(ScenarioNames.PhoneLogin, Rpcs, PhoneLoginWorkers(run), PhoneLoginFlow(run), flows: true);

    /// <summary>Flows in flight for phone-login: the configured count, at most one per seeded member.</summary>
    public static int PhoneLoginWorkers(RunContext run) => Math.Min(run.Options.FlowConcurrency, run.Seeded);

    /// <summary>One phone-login flow on a random seeded member among the worker's own phones.</summary>
    public static Func<Worker, Task> PhoneLoginFlow(RunContext run) => async w =>
    {
        var slots = (run.Seeded - 1 - w.Index) / w.Count + 1;
        var index = 1 + w.Index + (long)w.Random.Next(slots) * w.Count;
        await PhoneFlows.LoginAsync(run, w, index);
    };

    /// <summary>Register CHECK_EXISTENCE → code → INPUT_CODE → INPUT_NAME, each flow on a phone never used before.</summary>
    public static Task<ScenarioResult> RegisterAsync(RunContext run)
    {
        long serial = 0;
        return run.MeasureAsync(ScenarioNames.Register, Rpcs, run.Options.FlowConcurrency,
            w => PhoneFlows.RegisterAsync(run, w, Interlocked.Increment(ref serial)), flows: true);
    }
}
