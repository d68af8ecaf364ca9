using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Sms;

namespace Pan.Server.Sms;

/// <summary>
/// Deletes SMS send-log rows older than two days, minute buckets of the cap counters older than two hours and hour
/// buckets older than two days (the caps and risk rules look back at most 25 hours), and SMS outbox rows whose code
/// expired more than a day ago (sent, blocked or abandoned long since: the sender blanks a row's payload when it ends).
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

        var outbox = await db.Set<SmsOutboxEntry>().Where(e => e.Expires < now.AddDays(-1)).ExecuteDeleteAsync(cancellationToken);
        if (outbox > 0)
        {
            logger.LogInformation("Purged {Rows} SMS outbox row(s) whose code expired over a day ago", outbox);
        }

        var minuteCutoff = SmsGate.Buckets(now.AddHours(-2)).Minute;
        var hourCutoff = SmsGate.Buckets(cutoff).Minute;
        await db.Set<SmsCount>()
            .Where(c => (c.Span == SmsCount.MinuteSpan && c.Bucket < minuteCutoff) || c.Bucket < hourCutoff)
            .ExecuteDeleteAsync(cancellationToken);
    }
}
