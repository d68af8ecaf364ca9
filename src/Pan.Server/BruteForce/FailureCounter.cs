namespace Pan.Server.BruteForce;

/// <summary>Whether an account may try a secret now.</summary>
public readonly record struct LockState(bool Locked, TimeSpan RetryAfter);

/// <summary>
/// One failure counter per member, shared by password, one-time code and security-answer attempts, kept in the
/// database (every node sees it): progressive delay then lock, at most 100 consecutive failures; a success resets it.
/// </summary>
public sealed class FailureCounter
{
    public Task<LockState> StateAsync(long uid, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");

    public Task RecordFailureAsync(long uid, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");

    public Task ResetAsync(long uid, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");
}
