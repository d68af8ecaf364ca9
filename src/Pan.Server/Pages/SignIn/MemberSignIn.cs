using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Members;
using Pan.Data.Tokens;
using Pan.Server.Accounts;
using Pan.Server.Tokens;

namespace Pan.Server.Pages.SignIn;

/// <summary>What finishing a sign-in led to: the browser is signed in, or it must choose one of several members first.</summary>
public sealed record SignInOutcome(SignedInMember? SignedIn, string? ChoiceTicket, IReadOnlyList<Member> Members);

/// <summary>
/// Turns a finished login flow (the auth token it issued) into the member cookie. The browser never sees the auth
/// token; the cookie names its Pan auth session. A phone with several members gets a chooser first: the choice is
/// carried in a short-lived, data-protected ticket naming the session the SMS code opened, and choosing another member
/// than the default opens a session for that member and ends the first one (the code already proved the phone, which
/// is what SwitchMember's step-up proves).
/// </summary>
public sealed class MemberSignIn(
    PanDbContext db,
    TokenService tokens,
    AccountDirectory accounts,
    IDataProtectionProvider protection,
    TimeProvider clock,
    IOptions<SignInOptions> options)
{
    private readonly IDataProtector choices = protection.CreateProtector("Pan.SignIn.MemberChoice.v1");

    /// <summary>
    /// Signs the browser in with the session behind <paramref name="authToken"/>, or, when <paramref name="allowChoice"/>
    /// (a phone sign-in) and the phone has several members, asks it to choose one.
    /// </summary>
    public async Task<SignInOutcome?> FinishAsync(HttpContext context, string authToken, bool allowChoice, CancellationToken cancellationToken)
    {
        if (await tokens.ValidateAuthTokenAsync(authToken, cancellationToken) is not { } auth)
        {
            return null;
        }

        var members = allowChoice ? await accounts.LiveMembersAsync(auth.AccountId, cancellationToken) : [];
        if (members.Count > 1)
        {
            var expires = clock.GetUtcNow().AddMinutes(options.Value.ChooseMinutes).ToUnixTimeSeconds();
            var ticket = choices.Protect(string.Create(CultureInfo.InvariantCulture, $"{auth.SessionId}:{auth.AccountId}:{expires}"));
            return new SignInOutcome(null, ticket, members);
        }

        var member = new SignedInMember(auth.Uid, auth.ObjectId, auth.AccountId, auth.SessionId, auth.AuthMethod);
        await SignInAsync(context, member, auth.Expires, cancellationToken);
        return new SignInOutcome(member, null, members);
    }

    /// <summary>The member a chooser ticket may still choose from, or null when the ticket is bad, expired or its session ended.</summary>
    public async Task<(AuthSession Session, List<Member> Members)?> OpenChoiceAsync(string? ticket, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(ticket) || ticket.Length > 1024)
        {
            return null;
        }

        string payload;
        try
        {
            payload = choices.Unprotect(ticket);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }

        var parts = payload.Split(':');
        if (parts.Length != 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sessionId)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var accountId)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || clock.GetUtcNow().ToUnixTimeSeconds() >= expires)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var session = await db.Set<AuthSession>().AsNoTracking()
            .FirstOrDefaultAsync(s => s.Id == sessionId && s.AccountId == accountId && s.Revoked == null && s.Expires > now, cancellationToken);
        return session is null ? null : (session, await accounts.LiveMembersAsync(accountId, cancellationToken));
    }

    /// <summary>Signs in as <paramref name="objectId"/>, one of the ticket's members; null when the ticket or the choice is not (or no longer) valid.</summary>
    public async Task<SignedInMember?> ChooseAsync(HttpContext context, string? ticket, string? objectId, CancellationToken cancellationToken)
    {
        if (await OpenChoiceAsync(ticket, cancellationToken) is not var (session, members)
            || !Guid.TryParse(objectId, out var chosenId)
            || members.FirstOrDefault(m => m.ObjectId == chosenId) is not { } chosen)
        {
            return null;
        }

        if (chosen.Uid == session.Uid)
        {
            var same = new SignedInMember(chosen.Uid, chosen.ObjectId, chosen.AccountId, session.Id, session.AuthMethod);
            await SignInAsync(context, same, session.Expires, cancellationToken);
            return same;
        }

        // Why revoke first: of two concurrent choices with one ticket only the first ends the session; the second sees
        // nothing left to revoke and is refused, so one code never yields two sessions.
        var revoked = await db.Set<AuthSession>().Where(s => s.Id == session.Id).EndAsync(clock.GetUtcNow(), cancellationToken);
        if (revoked != 1)
        {
            return null;
        }

        var issued = await tokens.IssueAuthTokenAsync(chosen, session.AuthMethod, cancellationToken);
        if (await tokens.ValidateAuthTokenAsync(issued.Token, cancellationToken) is not { } opened)
        {
            return null;
        }

        var member = new SignedInMember(chosen.Uid, chosen.ObjectId, chosen.AccountId, opened.SessionId, opened.AuthMethod);
        await SignInAsync(context, member, opened.Expires, cancellationToken);
        return member;
    }

    /// <summary>The signed-in member (its session checked against the database), or null.</summary>
    public static async Task<SignedInMember?> CurrentAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync(MemberCookie.Scheme);
        return result.Succeeded ? MemberCookie.Read(result.Principal) : null;
    }

    /// <summary>Ends the browser's session: the Pan auth session is revoked and the cookie removed.</summary>
    public async Task SignOutAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (await CurrentAsync(context) is { } member)
        {
            await tokens.RevokeSessionAsync(member.SessionId, cancellationToken);
        }

        await context.SignOutAsync(MemberCookie.Scheme);
    }

    public Task<string?> DisplayNameAsync(long uid, CancellationToken cancellationToken) =>
        db.Members.AsNoTracking().Where(m => m.Uid == uid).Select(m => m.DisplayName).FirstOrDefaultAsync(cancellationToken);

    /// <remarks>
    /// Why the session the cookie named before is ended: a browser holds one session, and the cookie being replaced (a
    /// prompt=login, another member, the chooser) may have been copied; left alive, that copy would stay signed in
    /// until the session expired, while the member sees a fresh sign-in.
    /// </remarks>
    private async Task SignInAsync(HttpContext context, SignedInMember member, DateTimeOffset sessionExpires, CancellationToken cancellationToken)
    {
        if (await CurrentAsync(context) is { } replaced && replaced.SessionId != member.SessionId)
        {
            await tokens.RevokeSessionAsync(replaced.SessionId, cancellationToken);
        }

        var lifetime = clock.GetUtcNow() + options.Value.CookieLifetime;
        await context.SignInAsync(MemberCookie.Scheme, MemberCookie.Create(member), new AuthenticationProperties
        {
            // Why not persistent: the cookie ends with the browser session (shared computers), and in any case at ExpiresUtc.
            IsPersistent = false,
            AllowRefresh = false,
            IssuedUtc = clock.GetUtcNow(),
            ExpiresUtc = lifetime < sessionExpires ? lifetime : sessionExpires,
        });
    }
}
