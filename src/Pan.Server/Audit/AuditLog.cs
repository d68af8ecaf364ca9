using Microsoft.EntityFrameworkCore;
using Pan.Data;

namespace Pan.Server.Audit;

/// <summary>
/// Writes the audit trail of admin and operator actions (table <c>audit_log</c>): who, what, on which target, when
/// (from <see cref="TimeProvider"/>) and how it ended. Entries never hold secrets (no passwords, tokens or emails'
/// verification codes) — only identifiers such as <c>uid:42</c> or <c>app:jkforum</c>.
/// </summary>
/// <remarks>
/// Why raw SQL: the entry is inserted on the request's connection (so it joins a transaction that is open, and commits
/// or rolls back with the action), without flushing entities the caller still has tracked — after a failed action the
/// change tracker may hold edits that must never be saved.
/// </remarks>
public sealed class AuditLog(PanDbContext db, TimeProvider clock, ILogger<AuditLog> logger)
{
    /// <summary>Widths of the columns; longer values are cut (an audit line is never refused for its length).</summary>
    public const int ActorLength = 254, ActionLength = 64, TargetLength = 300, OutcomeLength = 300;

    /// <summary>The actor text for a member acting on their own behalf.</summary>
    public static string Member(long uid) => "member:" + uid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The target text for a phone number (an operator's block), <c>phone:</c> and what was given; see <see cref="ForLog"/>.</summary>
    public static string Phone(string number) => PhoneTargetPrefix + number;

    public async Task WriteAsync(string actor, string action, string target, string outcome, CancellationToken cancellationToken)
    {
        var at = clock.GetUtcNow().ToUnixTimeMilliseconds();
        actor = Cut(actor, ActorLength);
        action = Cut(action, ActionLength);
        target = Cut(target, TargetLength);
        outcome = Cut(outcome, OutcomeLength);
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO audit_log (at, actor, action, target, outcome) VALUES ({at}, {actor}, {action}, {target}, {outcome})",
            cancellationToken);
        logger.LogInformation("Audit: {Actor} {Action} {Target}: {Outcome}", Members.EmailAddresses.ForLog(actor), action, ForLog(target), outcome);
    }

    /// <summary>
    /// A target as a log line may show it: a phone number target (<c>phone:+8869…</c>, an operator's block) keeps only
    /// its last three digits, as every other log line that names a number does (SECURITY.md 16); the audit row keeps
    /// the whole number. An address target (<c>admin:…</c>, an operator's CLI) keeps only its domain, as every log line
    /// that names an address does. Other targets are identifiers and pass unchanged.
    /// </summary>
    public static string ForLog(string target) =>
        target.StartsWith(PhoneTargetPrefix, StringComparison.Ordinal) && target.Length > PhoneTargetPrefix.Length + 3
            ? PhoneTargetPrefix + "…" + target[^3..]
            : target.IndexOf(':') is var colon and >= 0 && target.IndexOf('@') > colon
                ? target[..(colon + 1)] + Members.EmailAddresses.ForLog(target[(colon + 1)..])
                : target;

    private const string PhoneTargetPrefix = "phone:";

    private static string Cut(string? value, int length) =>
        string.IsNullOrEmpty(value) ? "-" : value.Length <= length ? value : value[..length];
}
