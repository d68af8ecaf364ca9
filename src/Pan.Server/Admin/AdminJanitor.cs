using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Admins;
using Pan.Data.HandOff;

namespace Pan.Server.Admin;

/// <summary>
/// Deletes expired admin sessions and login tokens every hour (by the injected clock). Expired rows are already refused
/// by every check; this is housekeeping, and every node may run it (the deletes are idempotent).
/// </summary>
public sealed class AdminJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<AdminJanitor> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await SweepOnceAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>One sweep; a failure (database away) is logged and retried at the next tick.</summary>
    public async Task SweepOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            var now = clock.GetUtcNow();
            var sessions = await db.Set<AdminSession>().Where(s => s.Expires <= now).ExecuteDeleteAsync(cancellationToken);
            var logins = await db.Set<StoredLoginToken>().Where(t => t.Expires <= now).ExecuteDeleteAsync(cancellationToken);
            if (sessions + logins > 0)
            {
                logger.LogInformation("Purged {AdminSessions} admin session(s) and {LoginTokens} login token(s) past expiry", sessions, logins);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Admin session and login token purge failed; retrying at the next tick");
        }
    }
}
