using Pan.Data;
using Pan.Data.Audit;

namespace Pan.Server.Audit;

/// <summary>
/// Appends to the <c>audit_log</c> table. Shares the request's <see cref="PanDbContext"/>, so an entry written inside a
/// caller's transaction commits (or rolls back) with the operation it records. Values longer than their column are
/// cut, never refused: an audit line must not make the operation fail.
/// </summary>
public sealed class AuditLog(PanDbContext db, TimeProvider clock)
{
    /// <summary>The actor text for a member acting on their own behalf.</summary>
    public static string Member(long uid) => "member:" + uid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes one entry (and saves whatever else the context is tracking, as part of the same unit of work).</summary>
    public async Task WriteAsync(string actor, string action, string target, string outcome, CancellationToken cancellationToken)
    {
        db.Add(new AuditEntry
        {
            At = clock.GetUtcNow(),
            Actor = Cut(actor, AuditEntry.ActorLength),
            Action = Cut(action, AuditEntry.ActionLength),
            Target = Cut(target, AuditEntry.TargetLength),
            Outcome = Cut(outcome, AuditEntry.OutcomeLength),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Cut(string value, int length) => value.Length <= length ? value : value[..length];
}
