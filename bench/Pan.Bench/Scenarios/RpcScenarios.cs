using Pan.Bench.Load;
using Pan.General.Member;

namespace Pan.Bench.Scenarios;

/// <summary>The single-RPC scenarios: the transport floor and the read paths apps call most.</summary>
public static class RpcScenarios
{
    public const string Calls = "calls/s";

    /// <summary><c>grpc.health.v1.Health/Check</c>: answered from a cached result, so it measures gRPC itself.</summary>
    public static Task<ScenarioResult> FloorAsync(RunContext run) =>
        run.MeasureAsync(ScenarioNames.Floor, Calls, run.Options.Concurrency, run.FloorCallAsync, FloorKind.Itself);

    /// <summary><c>ValidateAccessToken</c> over the signed-in members' tokens, round-robin.</summary>
    public static Task<ScenarioResult> ValidateAsync(RunContext run, IReadOnlyList<SignedInMember> tokens, string name = ScenarioNames.Validate, double? rate = null) =>
        run.MeasureAsync(name, Calls, run.Options.Concurrency, ValidateCall(run, tokens), rate: rate);

    /// <summary>One <c>ValidateAccessToken</c> call with the worker's next token.</summary>
    public static Func<Worker, Task> ValidateCall(RunContext run, IReadOnlyList<SignedInMember> tokens) => async w =>
    {
        var client = run.Members(w.Index);
        var request = new ValidateAccessTokenRequest { AccessToken = Next(w, tokens).AccessToken };
        var reply = await w.CallAsync(() => client.ValidateAccessTokenAsync(request));
        Check(reply.Info is not null, "ValidateAccessToken returned no info");
    };

    /// <summary><c>Me</c> over the signed-in members' tokens.</summary>
    public static Task<ScenarioResult> MeAsync(RunContext run, IReadOnlyList<SignedInMember> tokens) =>
        run.MeasureAsync(ScenarioNames.Me, Calls, run.Options.Concurrency, MeCall(run, tokens));

    /// <summary>One <c>Me</c> call with the worker's next token.</summary>
    public static Func<Worker, Task> MeCall(RunContext run, IReadOnlyList<SignedInMember> tokens) => async w =>
    {
        var client = run.Members(w.Index);
        var request = new MeRequest { AccessToken = Next(w, tokens).AccessToken };
        var reply = await w.CallAsync(() => client.MeAsync(request));
        Check(reply.User is not null, "Me returned no member");
    };

    /// <summary><c>ReadObject</c> for a batch of random seeded uids.</summary>
    public static Task<ScenarioResult> ReadObjectAsync(RunContext run) =>
        run.MeasureAsync(ScenarioNames.ReadObject, Calls, run.Options.Concurrency, async w =>
        {
            var client = run.Members(w.Index);
            var request = new ReadObjectRequest();
            for (var i = 0; i < run.Options.ReadBatch; i++)
            {
                request.Uids.Add(w.Random.NextInt64(1, run.Seeded + 1));
            }

            var reply = await w.CallAsync(() => client.ReadObjectAsync(request));
            Check(reply.Objects.Count > 0, "ReadObject returned no member");
        });

    private static SignedInMember Next(Worker worker, IReadOnlyList<SignedInMember> tokens) =>
        tokens[(int)((worker.Index + worker.Sequence++ * worker.Count) % tokens.Count)];

    private static void Check(bool condition, string problem)
    {
        if (!condition)
        {
            throw new InvalidOperationException(problem);
        }
    }
}
