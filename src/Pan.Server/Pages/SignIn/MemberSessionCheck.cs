using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Tokens;

namespace Pan.Server.Pages.SignIn;

/// <summary>
/// Ties the member cookie to its Pan auth session: on every request that reads the cookie, the session must still be
/// live (not revoked, not expired) and its member and account not deleted, otherwise the cookie is rejected and
/// removed. So logout elsewhere, a password change, member deletion or session revocation signs the browser out too.
/// </summary>
public static class MemberSessionCheck
{
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        if (MemberCookie.Read(context.Principal) is not { } member
            || !await IsLiveAsync(context.HttpContext.RequestServices, member, context.HttpContext.RequestAborted))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(MemberCookie.Scheme);
        }
    }

    /// <summary>True while the member's session, the member and its account are live.</summary>
    public static async Task<bool> IsLiveAsync(IServiceProvider services, SignedInMember member, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<PanDbContext>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        return await (
                from s in db.Set<AuthSession>()
                join m in db.Members on s.Uid equals m.Uid
                join a in db.Accounts on m.AccountId equals a.Id
                where s.Id == member.SessionId && s.Uid == member.Uid && s.Revoked == null && s.Expires > now
                      && m.ObjectId == member.ObjectId && m.AccountId == member.AccountId && m.Deleted == null && a.Deleted == null
                select s.Id)
            .AnyAsync(cancellationToken);
    }
}
