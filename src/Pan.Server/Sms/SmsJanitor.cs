using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Sms;

namespace Pan.Server.Sms;

/// <summary>
/// Deletes SMS send-log rows older than two days, minute buckets of the cap counters older than two hours and hour
/// buckets older than two days (the caps and risk rules look back at most 25 hours).
/// </summary>
public sealed class SmsJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<SmsJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        var cutoff = now.AddDays(-2);
        var deleted = await db.Set<SmsSend>().Where(s => s.Created < cutoff).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            logger.LogInformation("Purged {Rows} SMS send-log row(s) older than two days", deleted);
        }

        var minuteCutoff = SmsGate.Buckets(now.AddHours(-2)).Minute;
        var hourCutoff = SmsGate.Buckets(cutoff).Minute;
        await db.Set<SmsCount>()
            .Where(c => (c.Span == SmsCount.MinuteSpan && c.Bucket < minuteCutoff) || c.Bucket < hourCutoff)
            .ExecuteDeleteAsync(cancellationToken);
    }
}
