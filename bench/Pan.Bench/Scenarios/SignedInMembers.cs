using Pan.Bench.Load;

namespace Pan.Bench.Scenarios;

/// <summary>A seeded member signed in through the API, with an access token for <see cref="PhoneFlows.AppId"/>.</summary>
public sealed record SignedInMember(long Index, string AccessToken);

/// <summary>
/// Obtains access tokens the way an app does — phone login (code from the SMS webhook), then AccessToken — for seeded
/// members spread evenly over the whole table, so token lookups touch the full range of member rows.
/// </summary>
public static class SignedInMembers
{
    public static async Task<IReadOnlyList<SignedInMember>> SignInAsync(RunContext run, int count)
    {
        count = Math.Min(count, run.Seeded);
        var result = new SignedInMember[count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = run.Options.FlowConcurrency };
        await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (i, _) =>
        {
            var worker = Worker.Untimed(i);
            var index = 1 + (long)i * run.Seeded / count;
            var auth = await PhoneFlows.LoginAsync(run, worker, index);
            result[i] = new SignedInMember(index, await PhoneFlows.AccessTokenAsync(run, worker, auth));
        });
        return result;
    }
}
