using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Sms;

namespace Pan.Server.Sms;

/// <summary>Deletes SMS send-log rows older than two days (the caps and risk rules look back at most one day).</summary>
public sealed class SmsJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<SmsJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().AddDays(-2);
        var deleted = await db.Set<SmsSend>().Where(s => s.Created < cutoff).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            logger.LogInformation("Purged {Rows} SMS send-log row(s) older than two days", deleted);
        }
    }
}
