using Microsoft.EntityFrameworkCore;
using Pan.Data;

namespace Pan.Server.OAuth;

/// <summary>
/// Orders what changes one member's OAuth state with one app: /connect/authorize (the remembered consent it reads and
/// stores, the code and grant it issues) and the app's removal at "my apps" (<see cref="MyAppsPage"/>). Each takes it in
/// its transaction right after the member's own lock (<c>LiveMembers.HoldAsync</c>), before it reads or writes any of
/// that state, so the two run one after the other: an authorization that comes second sees the removal (no remembered
/// consent; a decided consent is stored anew), and a removal that comes second ends what the authorization stored.
/// Two remembered consents finishing at once are ordered by it too, so they never both add one.
/// </summary>
/// <remarks>
/// On PostgreSQL an advisory lock of the member and app for the transaction (the key is the one remembered consents
/// have always been stored under, so nodes of the previous version and this one order against each other); SQLite's
/// transaction already holds the database's write lock.
/// </remarks>
public static class OAuthAppLock
{
    public static async Task HoldAsync(PanDbContext db, string subject, string applicationId, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("OAuthAppLock.HoldAsync must run in the caller's transaction.");
        }

        if (db.Database.IsNpgsql())
        {
            var key = "oauth_remembered_consent:" + subject + ":" + applicationId;
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({key}, 0))", cancellationToken);
        }
    }
}
