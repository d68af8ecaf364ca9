using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.AppEvents;
using Pan.Data.Outbox;

namespace Pan.Server.AppEvents;

/// <summary>
/// Deletes app event rows that ended (delivered or given up, their body already dropped) once their delivery window
/// has been over for a day, as the SMS janitor does with its outbox. Pending rows are left to the sender, which gives
/// them up with a warning. Also erases each app's previous signing secret once its rotation overlap is over.
/// </summary>
public sealed class AppEventJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<AppEventJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().AddDays(-1);
        var deleted = await db.Set<AppEventOutboxEntry>().Where(e => e.State != OutboxState.Pending && e.Expires < cutoff).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            logger.LogInformation("Purged {Rows} app event row(s) whose delivery window ended over a day ago", deleted);
        }

        var now = Clock.GetUtcNow();
        var erased = await db.Set<AppEventSubscription>().Where(s => s.PreviousSecretUntil != null && s.PreviousSecretUntil <= now)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.PreviousSecret, (byte[]?)null).SetProperty(s => s.PreviousSecretUntil, (DateTimeOffset?)null), cancellationToken);
        if (erased > 0)
        {
            logger.LogInformation("Erased {Count} previous app event signing secret(s) whose rotation overlap ended", erased);
        }
    }
}
