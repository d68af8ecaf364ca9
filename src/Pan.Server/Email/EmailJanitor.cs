using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;

namespace Pan.Server.Email;

/// <summary>
/// Every hour (by the injected clock) deletes email challenges that expired more than a day ago, delivery-log rows
/// older than a day (the caps look back one hour) and outbox rows whose code expired more than a day ago (sent or
/// abandoned long since; the sender abandons a row, blanking its payload, once its code expires). Housekeeping only: every check already ignores them; any node may run it.
/// </summary>
public sealed class EmailJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<EmailJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().AddDays(-1);
        var codes = await db.Set<EmailCode>().Where(c => c.Expires < cutoff).ExecuteDeleteAsync(cancellationToken);
        var attempts = await db.Set<DeliveryAttempt>().Where(a => a.Created < cutoff).ExecuteDeleteAsync(cancellationToken);
        var outbox = await db.Set<MailOutboxEntry>().Where(e => e.Expires < cutoff).ExecuteDeleteAsync(cancellationToken);
        if (codes + attempts + outbox > 0)
        {
            logger.LogInformation("Purged {Codes} email challenge(s), {Attempts} delivery-log row(s) and {Outbox} outbox row(s)", codes, attempts, outbox);
        }
    }
}
