using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Credentials;
using Pan.Data.Omniauth;
using Pan.Data.Passkeys;
using Pan.Data.Tokens;
using Pan.Server.Audit;
using Pan.Server.Deletion;
using Pan.Server.Tokens;

namespace Pan.Server.Omniauth;

/// <summary>One bound provider identity as ListSocialIdentities and the data export show it.</summary>
public sealed record SocialIdentityView(string Provider, string ProviderUserId, DateTimeOffset Created, DateTimeOffset LastUsed);

/// <summary>What <see cref="SocialIdentityStore.UnlinkAsync"/> did.</summary>
public enum UnlinkOutcome
{
    Unlinked,

    /// <summary>The member has no identity of that provider (or is deleted); nothing changed.</summary>
    NotFound,

    /// <summary>The identity is the member's last way to sign in; nothing changed.</summary>
    LastWayIn,
}

/// <summary>A member's own view of its bound social-login identities: listing them and unlinking one.</summary>
public sealed class SocialIdentityStore(PanDbContext db, TokenService tokens, AuditLog audit, ILogger<SocialIdentityStore> logger)
{
    /// <summary>The audit action of an unlink.</summary>
    public const string UnlinkAction = "social.unlink";

    /// <summary>The member's identities, oldest first.</summary>
    public async Task<IReadOnlyList<SocialIdentityView>> ListAsync(long uid, CancellationToken cancellationToken) =>
        await db.Set<SocialIdentity>().AsNoTracking().Where(i => i.Uid == uid).OrderBy(i => i.Created).ThenBy(i => i.Id)
            .Select(i => new SocialIdentityView(i.Provider, i.ProviderUserId, i.Created, i.LastUsed))
            .ToListAsync(cancellationToken);

    /// <summary>
    /// Removes the member's identity of <paramref name="provider"/> and, in the same transaction, ends the social-login
    /// sessions that identity opened (their access and refresh tokens, and the member's membership passes) and audits it.
    /// </summary>
    /// <remarks>
    /// A family's refresh tokens name the provider that signed it in (<see cref="OmniauthRefreshToken.Provider"/>); a
    /// family from before that was recorded names none and is ended by an unlink of any provider, since it may be this
    /// identity's. Sign-ins through the member's other providers, and sessions opened otherwise (phone, password, email
    /// code, passkey, hand-off), stay. Why the member row first: two unlinks at once would each see the other identity as
    /// the way in that remains.
    /// </remarks>
    public async Task<UnlinkOutcome> UnlinkAsync(long uid, string provider, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveMembers.HoldAsync(db, uid, cancellationToken)
            || !await db.Set<SocialIdentity>().AnyAsync(i => i.Uid == uid && i.Provider == provider, cancellationToken))
        {
            return UnlinkOutcome.NotFound;
        }

        if (!await HasAnotherWayInAsync(uid, provider, cancellationToken))
        {
            return UnlinkOutcome.LastWayIn;
        }

        await db.Set<SocialIdentity>().Where(i => i.Uid == uid && i.Provider == provider).ExecuteDeleteAsync(cancellationToken);
        var sessions = await db.Set<AuthSession>().AsNoTracking()
            .Where(s => s.Uid == uid && s.AuthMethod == OmniauthTokens.AuthMethod && s.Revoked == null
                && db.Set<OmniauthRefreshToken>().Any(t => t.SessionId == s.Id && (t.Provider == provider || t.Provider == null)))
            .Select(s => s.Id)
            .ToListAsync(cancellationToken);
        await tokens.RevokeMemberSessionsAsync(sessions, uid, cancellationToken);
        await audit.WriteAsync(AuditLog.Member(uid), UnlinkAction, AuditLog.Member(uid), "ok", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Member {Uid} unlinked its {Provider} identity; {Count} social-login session(s) ended", uid, provider, sessions.Count);
        return UnlinkOutcome.Unlinked;
    }

    /// <summary>
    /// Whether the member can still sign in without its <paramref name="provider"/> identity: a password, a phone (its
    /// account's), a verified email (email-code sign-in, email reset), a passkey or another identity.
    /// </summary>
    private async Task<bool> HasAnotherWayInAsync(long uid, string provider, CancellationToken cancellationToken)
    {
        var member = await db.Members.AsNoTracking().Where(m => m.Uid == uid)
            .Select(m => new { m.AccountId, m.Email, m.EmailVerified })
            .SingleAsync(cancellationToken);
        return (member.EmailVerified && !string.IsNullOrEmpty(member.Email))
            || await db.Accounts.AnyAsync(a => a.Id == member.AccountId && a.PhoneE164 != null && a.Deleted == null, cancellationToken)
            || await db.Set<MemberCredential>().AnyAsync(c => c.Uid == uid && c.PasswordHash != null, cancellationToken)
            || await db.Set<MemberPasskey>().AnyAsync(p => p.Uid == uid, cancellationToken)
            || await db.Set<SocialIdentity>().AnyAsync(i => i.Uid == uid && i.Provider != provider, cancellationToken);
    }
}
