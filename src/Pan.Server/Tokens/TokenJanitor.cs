using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Tokens;

namespace Pan.Server.Tokens;

/// <summary>
/// Deletes expired access tokens, verify tokens and auth sessions every hour (by the injected clock), so the token
/// tables hold live rows only. Expired rows are already refused by every check; this is housekeeping, and every
/// node may run it (the deletes are idempotent).
/// </summary>
public sealed class TokenJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<TokenJanitor> logger) : BackgroundService
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
            // Access tokens never outlive their session, so deleting them first leaves no orphan behind the sessions.
            var tokens = await db.Set<StoredAccessToken>().Where(t => t.Expires <= now).ExecuteDeleteAsync(cancellationToken);
            var verify = await db.Set<StoredVerifyToken>().Where(t => t.Expires <= now).ExecuteDeleteAsync(cancellationToken);
            var sessions = await db.Set<AuthSession>().Where(s => s.Expires <= now).ExecuteDeleteAsync(cancellationToken);
            if (tokens + verify + sessions > 0)
            {
                logger.LogInformation("Purged {AccessTokens} access token(s), {VerifyTokens} verify token(s) and {Sessions} session(s) past expiry",
                    tokens, verify, sessions);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Token purge failed; retrying at the next tick");
        }
    }
}
