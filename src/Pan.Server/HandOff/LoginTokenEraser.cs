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
public sealed class LoginTokenEraser(PanDbContext db) : IMemberDataEraser
{
    public Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken) =>
        db.Set<StoredLoginToken>().Where(t => uids.Contains(t.Uid)).ExecuteDeleteAsync(cancellationToken);
}
