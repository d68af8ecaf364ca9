using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Guests;
using Pan.Server.Data;

namespace Pan.Server.Guests;

/// <summary>Deletes apinode tokens and activations a day after they expired (or were used).</summary>
public sealed class GuestJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<GuestJanitor> logger)
    : HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().AddDays(-1);
        await db.Set<GuestToken>().Where(t => t.Expires < cutoff).ExecuteDeleteAsync(cancellationToken);
        await db.Set<GuestActivation>().Where(a => a.Expires < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}
