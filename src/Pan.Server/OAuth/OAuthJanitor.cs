using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Server.Data;

namespace Pan.Server.OAuth;

/// <summary>
/// Hourly: deletes pending consent requests a day after they expired, and lets OpenIddict prune tokens that are
/// expired, revoked or redeemed, and authorizations that are revoked or are a code's grant (ad-hoc) with no token entry
/// left, once they were made longer ago than <see cref="Keep"/> or a refresh token's lifetime
/// (<c>Pan:OAuth:RefreshTokenDays</c>), whichever is longer. A remembered consent (a valid permanent authorization,
/// which has no tokens of its own, see <see cref="AuthorizeEndpoint"/>) is never pruned.
/// </summary>
/// <remarks>
/// Why a refresh token's lifetime: reuse detection (SECURITY 14) needs the entry of a used refresh token for as long as
/// the token itself can be presented. A used token whose entry is gone is refused as unknown, and nothing else happens;
/// with the entry, its reuse revokes the whole family. So when a thief used a stolen refresh token first, the app's
/// later refresh with the token it still holds ends the thief's tokens, also after the app sat unused for weeks
/// (before, entries went after two weeks while refresh tokens live 30 days, and the thief kept the family).
/// </remarks>
public sealed class OAuthJanitor(IServiceScopeFactory scopes, TimeProvider clock, IOptions<OAuthOptions> options, ILogger<OAuthJanitor> logger)
    : HourlyJanitor(scopes, clock, logger)
{
    /// <summary>The shortest time an entry is kept (codes, access tokens; refresh tokens are kept longer, see above).</summary>
    public static readonly TimeSpan Keep = TimeSpan.FromDays(14);

    private readonly IServiceScopeFactory managers = scopes;

    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        await db.Set<PendingConsent>().Where(p => p.Expires < now.AddDays(-1)).ExecuteDeleteAsync(cancellationToken);
        var refreshTokenLifetime = TimeSpan.FromDays(options.Value.RefreshTokenDays);
        var threshold = now - (refreshTokenLifetime > Keep ? refreshTokenLifetime : Keep);
        await using var scope = managers.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(threshold, cancellationToken);
        await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(threshold, cancellationToken);
    }
}
