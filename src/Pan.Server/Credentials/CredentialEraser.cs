using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Credentials;
using Pan.Server.Deletion;

namespace Pan.Server.Credentials;

/// <summary>
/// Erases a deleted member's credentials: the password hash, the security question and its answer hash, and the
/// failure counter. Why: a hash is still personal data (and an offline guessing target), and nothing may sign in as a
/// deleted member anyway.
/// </summary>
public sealed class CredentialEraser(PanDbContext db) : IMemberDataEraser
{
    public async Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken)
    {
        await db.Set<MemberCredential>().Where(c => uids.Contains(c.Uid)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<LoginFailure>().Where(f => uids.Contains(f.Uid)).ExecuteDeleteAsync(cancellationToken);
    }
}
