using Pan.Data;

namespace Pan.Server.Data;

/// <summary>
/// Housekeeping that deletes rows nothing reads any more, once an hour by the injected clock. Every node may run it
/// (the deletes are idempotent); a failed sweep (database away) is logged and retried at the next tick.
/// </summary>
public abstract class HourlyJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromHours(1);

    protected TimeProvider Clock => clock;

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

    /// <summary>One sweep now.</summary>
    public async Task SweepOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await SweepAsync(scope.ServiceProvider.GetRequiredService<PanDbContext>(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "{Janitor} sweep failed; retrying at the next tick", GetType().Name);
        }
    }

    /// <summary>Deletes what has expired.</summary>
    protected abstract Task SweepAsync(PanDbContext db, CancellationToken cancellationToken);
}
