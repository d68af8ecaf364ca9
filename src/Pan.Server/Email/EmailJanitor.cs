using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;

namespace Pan.Server.Email;

/// <summary>
/// Every hour (by the injected clock) deletes email challenges that expired more than a day ago and delivery-log rows
/// older than a day (the caps look back one hour). Housekeeping only: every check already ignores them; any node may run it.
/// </summary>
public sealed class EmailJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<EmailJanitor> logger) : BackgroundService
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
            var cutoff = clock.GetUtcNow().AddDays(-1);
            var codes = await db.Set<EmailCode>().Where(c => c.Expires < cutoff).ExecuteDeleteAsync(cancellationToken);
            var attempts = await db.Set<DeliveryAttempt>().Where(a => a.Created < cutoff).ExecuteDeleteAsync(cancellationToken);
            if (codes + attempts > 0)
            {
                logger.LogInformation("Purged {Codes} email challenge(s) and {Attempts} delivery-log row(s)", codes, attempts);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Email housekeeping failed; retrying at the next tick");
        }
    }
}
