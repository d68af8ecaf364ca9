using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Server.Credentials;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>
/// A password change or reset ends what apps got through OAuth for the member (SECURITY 4 and 12): every token entry of
/// the member's subject that is still valid (refresh tokens, unredeemed authorization codes, access-token entries) is
/// marked revoked, inside the credential change's transaction. The refresh grant and the code exchange then answer
/// <c>invalid_grant</c>, and introspection and userinfo treat the access tokens as inactive, on every node (OpenIddict
/// reads the entry's status from the database on every use). Entries stored after this commits by a grant that raced
/// the change (a refresh that redeemed its token just before) are not seen here; they carry the old token generation,
/// which the same transaction bumped, and are refused by <see cref="OAuthGenerations"/>.
/// </summary>
/// <remarks>
/// Why the authorizations (remembered consents) stay: they grant nothing by themselves; a new code needs the member to
/// sign in again, which whoever knew the old password can no longer do. The member keeps the apps they chose and is not
/// asked again; to remove an app altogether the member uses the "my apps" page. Why only this member: passwords are per
/// member, and Pan's own tokens of the other members under the same phone survive a password change too.
/// </remarks>
public sealed class OAuthPasswordChangeRevoker(PanDbContext db, ILogger<OAuthPasswordChangeRevoker> logger) : IPasswordChangeRevoker
{
    public async Task RevokeAsync(long uid, CancellationToken cancellationToken)
    {
        var objectId = await db.Members.Where(m => m.Uid == uid).Select(m => (Guid?)m.ObjectId).FirstOrDefaultAsync(cancellationToken);
        if (objectId is not { } id)
        {
            return;
        }

        var subject = OAuthMembers.Subject(id);
        // Why a new concurrency token: OpenIddict's own updates (redeeming a code or refresh token in flight) check it, so
        // one that read the entry before this revocation fails instead of writing "redeemed" over "revoked".
        var stamp = Guid.NewGuid().ToString();
        var revoked = await db.Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Subject == subject && t.Status == Statuses.Valid)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, Statuses.Revoked).SetProperty(t => t.ConcurrencyToken, stamp), cancellationToken);
        logger.LogInformation("Revoked {Count} OAuth token(s) of member {Uid} after a password change", revoked, uid);
    }
}
