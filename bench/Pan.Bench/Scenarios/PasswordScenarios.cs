using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Geralt;
using Grpc.Core;
using Pan.Bench.Load;
using Pan.Bench.Seeding;
using Pan.General.Member;

namespace Pan.Bench.Scenarios;

/// <summary>The password floor (raw Argon2id in-process) and <c>VerifyMemberByPassword</c> measured against it.</summary>
public static class PasswordScenarios
{
    public const string Calls = "calls/s";
    public const string Hashes = "hashes/s";

    /// <summary>
    /// Argon2id (libsodium through Geralt) at the configured memory and passes, one hashing thread per core, no server
    /// running: the most password checks per second this machine can do.
    /// </summary>
    public static async Task<ScenarioResult> HashAsync(BenchOptions options, TextWriter log)
    {
        var benchCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sample = await HashLoadAsync(options, options.Warmup, options.Duration);
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - benchCpu).TotalSeconds
            / ((options.Warmup + options.Duration).TotalSeconds * Environment.ProcessorCount) * 100;
        log.WriteLine($"  {ScenarioNames.Hash,-16} {sample.CallsPerSecond,10:F1} {Hashes} p50 {sample.P50Ms:F1} ms (m={options.HashMemoryKiB} KiB, t={options.HashIterations})");
        return new ScenarioResult(ScenarioNames.Hash, true, null, Hashes, sample.CallsPerSecond, null, sample.Calls, sample.Errors,
            sample.P50Ms, sample.P90Ms, sample.P99Ms, sample.Seconds, Environment.ProcessorCount, null, null, cpu, null, null, sample.CallsPerSecond, sample.ErrorSamples);
    }

    /// <summary>Hashes on every core for <paramref name="warmup"/> + <paramref name="duration"/>.</summary>
    public static Task<LoadSample> HashLoadAsync(BenchOptions options, TimeSpan warmup, TimeSpan duration)
    {
        var password = Encoding.UTF8.GetBytes("correct horse battery staple");
        var memory = options.HashMemoryKiB * 1024;
        return LoadRunner.RunAsync(Environment.ProcessorCount, warmup, duration, w =>
        {
            w.Time(() =>
            {
                Span<char> hash = stackalloc char[Argon2id.HashSize];
                Argon2id.ComputeHash(hash, password, options.HashIterations, memory);
            });
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// Gives a few signed-in members a password (SetMemberPassword, after the SMS step-up), then re-authenticates them by display name and
    /// password. "Not available" (not an error) while the server answers UNIMPLEMENTED, i.e. before the credentials
    /// feature is merged.
    /// </summary>
    public static async Task<ScenarioResult> VerifyAsync(RunContext run, IReadOnlyList<SignedInMember> signedIn)
    {
        var password = "Bench-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)) + "!9";
        var members = signedIn.Take(run.Options.PasswordMembers).ToList();
        var setup = Worker.Untimed();
        try
        {
            foreach (var member in members)
            {
                var client = run.Members(0);
                var proof = await PhoneFlows.UpdateCredentialTokenAsync(run, setup, member.Index, member.AccessToken);
                await setup.CallAsync(() => client.SetMemberPasswordAsync(new SetMemberPasswordRequest
                {
                    AccessToken = member.AccessToken,
                    Password = password,
                    ConfirmPassword = password,
                    ResetCode = proof,
                }));
            }

            await setup.CallAsync(() => run.Members(0).VerifyMemberByPasswordAsync(Request(members[0], password)));
        }
        catch (RpcException ex)
        {
            var reason = ex.StatusCode == StatusCode.Unimplemented
                ? "not available: the server does not implement SetMemberPassword / VerifyMemberByPassword yet"
                : $"not available: setting up passwords failed ({ex.StatusCode}: {ex.Status.Detail})";
            run.Log.WriteLine($"  {ScenarioNames.PasswordVerify,-16} {reason}");
            return ScenarioResult.NotAvailable(ScenarioNames.PasswordVerify, Calls, reason);
        }

        var workers = run.Options.PasswordConcurrency;
        var result = await run.MeasureAsync(ScenarioNames.PasswordVerify, Calls, workers, Verify, FloorKind.Hash);
        if (run.Options.PasswordRounds <= 0)
        {
            return result;
        }

        // The target is judged on alternating windows of the hash floor and password-verify (FloorPairing explains why);
        // the single window above stays in the table for its latencies and CPU.
        var paired = await FloorPairing.RunAsync(
            run, ScenarioNames.PasswordVerify, (warmup, duration) => HashLoadAsync(run.Options, warmup, duration), workers, Verify);
        return result with { Paired = paired };

        async Task Verify(Worker w)
        {
            var client = run.Members(w.Index);
            var request = Request(members[(int)((w.Index + w.Sequence++ * w.Count) % members.Count)], password);
            var reply = await w.CallAsync(() => client.VerifyMemberByPasswordAsync(request));
            if (string.IsNullOrEmpty(reply.VerifyToken))
            {
                throw new InvalidOperationException("VerifyMemberByPassword returned no verify token");
            }
        }
    }

    private static VerifyMemberByPasswordRequest Request(SignedInMember member, string password) =>
        new() { DisplayName = SeedRows.DisplayName(member.Index), Password = password };
}
