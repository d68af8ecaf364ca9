using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;

namespace Pan.Server.Email;

/// <summary>
/// Every hour (by the injected clock) deletes email challenges that expired more than a day ago and delivery-log rows
/// older than a day (the caps look back one hour). Housekeeping only: every check already ignores them; any node may run it.
/// </summary>
public sealed class EmailJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<EmailJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().AddDays(-1);
        var codes = await db.Set<EmailCode>().Where(c => c.Expires < cutoff).ExecuteDeleteAsync(cancellationToken);
        var attempts = await db.Set<DeliveryAttempt>().Where(a => a.Created < cutoff).ExecuteDeleteAsync(cancellationToken);
        if (codes + attempts > 0)
        {
            logger.LogInformation("Purged {Codes} email challenge(s) and {Attempts} delivery-log row(s)", codes, attempts);
        }
    }
}
