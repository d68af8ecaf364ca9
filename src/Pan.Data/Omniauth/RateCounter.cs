namespace Pan.Data.Omniauth;

/// <summary>
/// One fixed-window request counter (the rate limit of <c>email_existed</c>), shared by every node through the
/// database: the row for (<see cref="Scope"/>, <see cref="WindowStart"/>) is created or incremented atomically.
/// </summary>
public sealed class RateCounter
{
    /// <summary>What is counted, e.g. <c>email_existed:client:jkforum</c> or <c>email_existed:ip:203.0.113.7</c>.</summary>
    public string Scope { get; set; } = string.Empty;

    /// <summary>Start of the window, Unix milliseconds.</summary>
    public long WindowStart { get; set; }

    public int Count { get; set; }
}
