using Pan.Server.Suspension;

namespace Pan.Server.Metrics;

/// <summary>Counting the refusals a sign-in's session opening decides (a suspended member) where the flow decides the rest.</summary>
public static class SignIns
{
    /// <summary>
    /// Runs <paramref name="open"/> (the flow's call that opens the session) and counts a <see cref="SignInOutcomes.Suspended"/>
    /// sign-in when it refuses a suspended member; the exception goes on unchanged. The flow counts every other outcome.
    /// </summary>
    public static async Task<T> CountAsync<T>(PanMetrics metrics, string method, Func<Task<T>> open)
    {
        try
        {
            return await open();
        }
        catch (MemberSuspendedException)
        {
            metrics.SignIn(method, SignInOutcomes.Suspended);
            throw;
        }
    }
}
