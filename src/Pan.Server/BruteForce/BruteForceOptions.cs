using System.ComponentModel.DataAnnotations;

namespace Pan.Server.BruteForce;

/// <summary><c>Pan:BruteForce:*</c>: the per-member failure counter (SECURITY 10).</summary>
public sealed class BruteForceOptions
{
    public const string Section = "Pan:BruteForce";

    /// <summary>Consecutive failures that lock the member (default 20; SP 800-63B 5.2.2 allows at most 100).</summary>
    [Range(2, 100, ErrorMessage = "Pan:BruteForce:MaxFailures must be 2–100.")]
    public int MaxFailures { get; set; } = 20;

    /// <summary>How long a lock lasts, in minutes (default 60), unless an operator releases it sooner.</summary>
    [Range(1, 7 * 24 * 60, ErrorMessage = "Pan:BruteForce:LockMinutes must be 1–10080.")]
    public int LockMinutes { get; set; } = 60;

    /// <summary>Failures allowed without any wait (default 3); each further one adds a wait of 1 s, 2 s, 4 s, …</summary>
    [Range(0, 99, ErrorMessage = "Pan:BruteForce:FreeFailures must be 0–99.")]
    public int FreeFailures { get; set; } = 3;

    /// <summary>Longest progressive wait, in seconds (default 900 = 15 min).</summary>
    [Range(1, 24 * 60 * 60, ErrorMessage = "Pan:BruteForce:MaxDelaySeconds must be 1–86400.")]
    public int MaxDelaySeconds { get; set; } = 900;
}
