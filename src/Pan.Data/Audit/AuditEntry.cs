namespace Pan.Data.Audit;

/// <summary>One admin or operator action: who did what to which target, when, and how it ended. Never holds a secret.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>Who: an admin's email, or "cli:&lt;os user&gt;" for the operator command line.</summary>
    public string Actor { get; set; } = string.Empty;

    /// <summary>What, e.g. "admin.change-member-password" or "cli.apps.rotate-secret".</summary>
    public string Action { get; set; } = string.Empty;

    /// <summary>On what, e.g. "uid:42", "app:jkforum", "admin:someone@example.com".</summary>
    public string Target { get; set; } = string.Empty;

    /// <summary>"ok", or the error that ended it (e.g. "ChangeMemberEmailResponse.Error.EmailInUseInPan").</summary>
    public string Outcome { get; set; } = string.Empty;
}
