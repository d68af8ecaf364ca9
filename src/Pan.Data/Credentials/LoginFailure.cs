namespace Pan.Data.Credentials;

/// <summary>
/// The brute-force counter of one member, shared by password, one-time-code and security-answer attempts. A row exists
/// only while the member has a failure streak; a success deletes it.
/// </summary>
public sealed class LoginFailure
{
    /// <summary>The member (primary key).</summary>
    public long Uid { get; set; }

    /// <summary>Wrong secrets in a row since the last success (or admin release).</summary>
    public int ConsecutiveFailures { get; set; }

    public DateTimeOffset LastFailure { get; set; }

    /// <summary>Until when every attempt is refused without looking at the secret (progressive delay or hard lock).</summary>
    public DateTimeOffset? LockedUntil { get; set; }
}
