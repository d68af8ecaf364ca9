namespace Pan.Data.Audit;

/// <summary>
/// One line of the <c>audit_log</c>: who did what to whom, when, and how it ended. Written for irreversible or
/// privileged operations (member and account deletion, admin actions). Append-only; never holds a secret.
/// </summary>
public sealed class AuditEntry
{
    public const int ActorLength = 64, ActionLength = 64, TargetLength = 128, OutcomeLength = 64;

    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>Who acted, e.g. <c>member:42</c> or <c>admin:alice</c>.</summary>
    public string Actor { get; set; } = string.Empty;

    /// <summary>What was done, e.g. <c>member.delete</c>.</summary>
    public string Action { get; set; } = string.Empty;

    /// <summary>What it was done to, e.g. <c>member:42</c> or <c>account:7</c>.</summary>
    public string Target { get; set; } = string.Empty;

    /// <summary>How it ended, e.g. <c>ok</c> or <c>denied: del_token</c>.</summary>
    public string Outcome { get; set; } = string.Empty;
}
