using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Server.Data;

namespace Pan.Server.OAuth;

/// <summary>
/// Hourly: deletes pending consent requests a day after they expired, and lets OpenIddict prune tokens and
/// authorizations that are expired, revoked or redeemed for more than two weeks (after the longest reuse check needs them).
/// </summary>
public sealed class OAuthJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<OAuthJanitor> logger) : HourlyJanitor(scopes, clock, logger)
{
    public static readonly TimeSpan Keep = TimeSpan.FromDays(14);

    private readonly IServiceScopeFactory managers = scopes;

    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        await db.Set<PendingConsent>().Where(p => p.Expires < now.AddDays(-1)).ExecuteDeleteAsync(cancellationToken);
        await using var scope = managers.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(now - Keep, cancellationToken);
        await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(now - Keep, cancellationToken);
    }
}
