using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Admins;
using Pan.Data.HandOff;

namespace Pan.Server.Admin;

/// <summary>
/// Deletes expired admin sessions and login tokens every hour (by the injected clock). Expired rows are already refused
/// by every check; this is housekeeping, and every node may run it (the deletes are idempotent).
/// </summary>
public sealed class AdminJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<AdminJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        var sessions = await db.Set<AdminSession>().Where(s => s.Expires <= now).ExecuteDeleteAsync(cancellationToken);
        var logins = await db.Set<StoredLoginToken>().Where(t => t.Expires <= now).ExecuteDeleteAsync(cancellationToken);
        if (sessions + logins > 0)
        {
            logger.LogInformation("Purged {AdminSessions} admin session(s) and {LoginTokens} login token(s) past expiry", sessions, logins);
        }
    }
}
