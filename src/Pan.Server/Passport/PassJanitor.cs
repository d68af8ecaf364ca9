using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Passport;

namespace Pan.Server.Passport;

/// <summary>
/// Deletes expired member passes every hour (by the injected clock). Nothing reads them: a scan needs an unexpired
/// pass, and the next GetPassportToken or GetQRCode replaces the row or inserts a new one. Why: without it the table
/// keeps a row per member who ever showed a card. (A pass can no longer be left behind by a deletion: issuing one holds
/// the member's row, see <see cref="MemberPasses.IssueAsync"/>.)
/// </summary>
public sealed class PassJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<PassJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        var deleted = await db.Set<MemberPass>().Where(p => p.Expires <= now).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            logger.LogInformation("Purged {Passes} member pass(es) past expiry", deleted);
        }
    }
}
