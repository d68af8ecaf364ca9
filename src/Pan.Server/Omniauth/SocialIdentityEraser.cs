using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Omniauth;
using Pan.Server.Deletion;

namespace Pan.Server.Omniauth;

/// <summary>
/// Erases deleted members' social identities (so the provider account may sign up afresh) and their refresh tokens,
/// inside the deletion's transaction. The deletion also revokes their sessions, which already kills the tokens.
/// </summary>
public sealed class SocialIdentityEraser(PanDbContext db) : IMemberDataEraser
{
    public async Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken)
    {
        await db.Set<SocialIdentity>().Where(i => uids.Contains(i.Uid)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<OmniauthRefreshToken>().Where(t => uids.Contains(t.Uid)).ExecuteDeleteAsync(cancellationToken);
    }
}
