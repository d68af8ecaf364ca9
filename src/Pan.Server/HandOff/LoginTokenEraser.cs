using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.HandOff;
using Pan.Server.Deletion;

namespace Pan.Server.HandOff;

/// <summary>
/// Erases deleted members' login tokens (each names the app's auth_url), spent or not, inside the deletion's
/// transaction. The deletion already killed them (<see cref="LoginTokens"/> checks the member); without this their rows
/// stayed until they expired.
/// </summary>
/// <remarks>
/// Why no index on login_tokens.uid (the delete reads the table): a login token lives Pan:HandOff:LoginTokenMinutes (5,
/// at most 60) and AdminJanitor deletes expired ones every hour, so the table holds about two hours of hand-offs at
/// most. An index would add a write to every hand-off and every purge to save a deletion a scan of that short table.
/// </remarks>
public sealed class LoginTokenEraser(PanDbContext db) : IMemberDataEraser
{
    public Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken) =>
        db.Set<StoredLoginToken>().Where(t => uids.Contains(t.Uid)).ExecuteDeleteAsync(cancellationToken);
}
