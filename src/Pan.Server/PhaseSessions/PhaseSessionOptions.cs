using System.ComponentModel.DataAnnotations;

namespace Pan.Server.PhaseSessions;

/// <summary><c>Pan:Codes:*</c>: lifetimes and limits of phased flows and their one-time codes.</summary>
public sealed class PhaseSessionOptions
{
    public const string Section = "Pan:Codes";

    /// <summary>How long a flow (phase_session_token) lives, in minutes (default 30).</summary>
    [Range(1, 24 * 60, ErrorMessage = "Pan:Codes:SessionMinutes must be 1–1440.")]
    public int SessionMinutes { get; set; } = 30;

    /// <summary>How long a code is accepted, in minutes (default 10, at most 10).</summary>
    [Range(1, 10, ErrorMessage = "Pan:Codes:CodeMinutes must be 1–10.")]
    public int CodeMinutes { get; set; } = 10;

    /// <summary>Wrong submissions after which a code is dead (default 5, at most 5).</summary>
    [Range(1, 5, ErrorMessage = "Pan:Codes:MaxAttempts must be 1–5.")]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Seconds before a new code may be sent in the same flow (default 60).</summary>
    [Range(0, 3600, ErrorMessage = "Pan:Codes:ResendCooldownSeconds must be 0–3600.")]
    public int ResendCooldownSeconds { get; set; } = 60;

    /// <summary>Codes one flow may send in all (default 5); past it the flow must start again later.</summary>
    [Range(1, 50, ErrorMessage = "Pan:Codes:MaxCodesPerSession must be 1–50.")]
    public int MaxCodesPerSession { get; set; } = 5;
}
