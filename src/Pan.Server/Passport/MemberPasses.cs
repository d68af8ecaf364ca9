using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Members;
using Pan.Data.Passport;
using Pan.Server.Data;
using Pan.Server.Tokens;

namespace Pan.Server.Passport;

/// <summary>The kinds of <see cref="MemberPass"/>.</summary>
public static class PassKinds
{
    public const string Passport = "passport";
    public const string Qr = "qr";
}

/// <summary>
/// Short-lived member passes (see <see cref="MemberPass"/>): 128-bit secrets from <see cref="RandomNumberGenerator"/>,
/// sent as 22 base64url characters and stored only as the SHA-256 of that text. Issuing replaces the member's previous
/// pass of the same kind (one row per member and kind), so the previous secret stops working at once. Whatever ends a
/// member's sessions deletes the member's rows in its own transaction (SECURITY 12): as an <see cref="ILogoutRevoker"/>
/// for a logout and for every revocation <see cref="TokenService"/> makes (a password change or reset, a move under a
/// phone, a phone validation, a reused social-login refresh token), and as an eraser for a deletion.
/// </summary>
public sealed class MemberPasses(PanDbContext db, TimeProvider clock) : Deletion.IMemberDataEraser, ILogoutRevoker
{
    public const int SecretBytes = 16;
    public const int SecretLength = 22;
    private const int Attempts = 5;

    /// <summary>
    /// Issues a pass of <paramref name="kind"/> to the caller of <paramref name="accessToken"/> (checked before, which
    /// gave <paramref name="caller"/>), or null when that token is no longer live. The write runs in one transaction
    /// that first holds the caller's member and session (<see cref="LiveSessions.HoldAccessTokenAsync"/>), so a pass is
    /// never issued for a session that has ended: a logout, password change, move or deletion committed first is seen
    /// (null), and one that comes later waits for this transaction and then ends the new pass (SECURITY 12). The pass
    /// lives <paramref name="lifetime"/> but never beyond the access token's expiry, which is never beyond its auth
    /// session's: a session that simply expires ends the passes fetched through it with it, as a revocation does.
    /// </summary>
    public async Task<(string Secret, DateTimeOffset Expires)?> IssueAsync(
        string accessToken, AccessTokenInfo caller, string kind, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        var hash = HashText(secret);
        var now = clock.GetUtcNow();
        // Why capped at the token, and no check of the session at scan time: a scan reads the pass row alone, which
        // records no session; the token's expiry is known here and never moves later.
        var expires = now + lifetime < caller.Expires ? now + lifetime : caller.Expires;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveSessions.HoldAccessTokenAsync(db, accessToken, caller, now, cancellationToken))
        {
            return null;
        }

        for (var attempt = 1; ; attempt++)
        {
            var replaced = await db.Set<MemberPass>().Where(p => p.Uid == caller.Uid && p.Kind == kind).ExecuteUpdateAsync(u => u
                .SetProperty(p => p.Hash, hash)
                .SetProperty(p => p.Created, now)
                .SetProperty(p => p.Expires, expires), cancellationToken);
            if (replaced == 1)
            {
                break;
            }

            var pass = new MemberPass { Uid = caller.Uid, Kind = kind, Hash = hash, Created = now, Expires = expires };
            db.Add(pass);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                break;
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex) && attempt < Attempts)
            {
                // Why: a concurrent call inserted the member's row first; replace it on the next round (last call wins).
                // EF Core rolled the insert back to its savepoint, so the transaction goes on.
                db.Entry(pass).State = EntityState.Detached;
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return (secret, expires);
    }

    /// <summary>The live member (with Account) holding this unexpired passport token, or null.</summary>
    public async Task<Member?> FindPassportHolderAsync(string? token, CancellationToken cancellationToken)
    {
        if (Hash(token) is not { } hash)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var found = await (
                from p in db.Set<MemberPass>()
                join m in db.Members on p.Uid equals m.Uid
                join a in db.Accounts on m.AccountId equals a.Id
                where p.Hash == hash && p.Kind == PassKinds.Passport && p.Expires > now && m.Deleted == null
                select new { p.Hash, Member = m, Account = a })
            .AsNoTracking()
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null || !CryptographicOperations.FixedTimeEquals(found.Hash, hash))
        {
            return null;
        }

        found.Member.Account = found.Account;
        return found.Member;
    }

    /// <summary>True when <paramref name="code"/> is the unexpired QR verify code of the live member (uid, object id).</summary>
    public async Task<bool> CheckQrAsync(long uid, Guid objectId, string? code, CancellationToken cancellationToken)
    {
        if (Hash(code) is not { } hash)
        {
            return false;
        }

        var now = clock.GetUtcNow();
        var stored = await (
                from p in db.Set<MemberPass>()
                join m in db.Members on p.Uid equals m.Uid
                where p.Uid == uid && p.Kind == PassKinds.Qr && p.Expires > now && m.Deleted == null && m.ObjectId == objectId
                select p.Hash)
            .FirstOrDefaultAsync(cancellationToken);
        return stored is not null && CryptographicOperations.FixedTimeEquals(stored, hash);
    }

    /// <summary>
    /// Logout ends the passes of every member of the phone (account) whose session it revokes, inside the logout's
    /// transaction. Why every member of the phone: an auth session is phone-level and its access tokens may speak for
    /// any member of the phone, and a pass records no session, so this is the only way to end every pass the signed-out
    /// device could have fetched. The member's other devices lose their passes too and simply ask for new ones (a pass
    /// lives 60 s by default; the QR code 10 minutes).
    /// </summary>
    Task ILogoutRevoker.RevokeAsync(long accountId, CancellationToken cancellationToken) =>
        db.Set<MemberPass>().Where(p => db.Members.Any(m => m.Uid == p.Uid && m.AccountId == accountId)).ExecuteDeleteAsync(cancellationToken);

    /// <summary>
    /// The server ends sessions of these members (a password change or reset, where the member's kept session simply
    /// asks for new passes; a move under a phone or a phone validation, which end the member's old sessions; a reused
    /// social-login refresh token, which ends its family; a deletion; a logout, EndSession or EndOtherSessions of
    /// member-bound sessions only): their passes end in the same transaction. Only
    /// these members' passes: the sessions a move, a phone validation or a refresh family end speak for that member
    /// alone (a phoneless account holds one member, a social login proves one), and a password change ends the
    /// member's own passes, as passwords are per member.
    /// </summary>
    Task ILogoutRevoker.RevokeMembersAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken) => EraseAsync(uids, cancellationToken);

    /// <summary>Every pass of the members (inside the caller's transaction, e.g. a deletion).</summary>
    public Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken) =>
        db.Set<MemberPass>().Where(p => uids.Contains(p.Uid)).ExecuteDeleteAsync(cancellationToken);

    /// <summary>The stored hash of a secret, or null when it cannot be one (wrong length or alphabet) — checked before hashing.</summary>
    private static byte[]? Hash(string? secret) =>
        secret is { Length: SecretLength } && secret.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? HashText(secret) : null;

    private static byte[] HashText(string secret) => SHA256.HashData(Encoding.ASCII.GetBytes(secret));
}
