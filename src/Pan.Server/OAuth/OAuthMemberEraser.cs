using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Server.Deletion;

namespace Pan.Server.OAuth;

/// <summary>
/// Deleting a member deletes what the provider keeps about them, inside the deletion's transaction: their tokens and
/// authorizations (remembered consents and each code's grant) for every app, and their pending consent requests. Their refresh tokens and
/// codes stop working at once and introspection no longer knows their access tokens.
/// </summary>
public sealed class OAuthMemberEraser(PanDbContext db) : IMemberDataEraser
{
    public async Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken)
    {
        var subjects = (await db.Members.Where(m => uids.Contains(m.Uid)).Select(m => m.ObjectId).ToListAsync(cancellationToken))
            .Select(OAuthMembers.Subject).ToList();
        await db.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Subject != null && subjects.Contains(t.Subject)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().Where(a => a.Subject != null && subjects.Contains(a.Subject)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<PendingConsent>().Where(p => uids.Contains(p.MemberUid)).ExecuteDeleteAsync(cancellationToken);
    }
}
