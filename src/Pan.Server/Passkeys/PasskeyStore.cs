using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Passkeys;
using Pan.Server.Audit;
using Pan.Server.Data;
using Pan.Server.Deletion;

namespace Pan.Server.Passkeys;

/// <summary>One passkey as ListPasskeys and the data export show it (never its public key).</summary>
public sealed record PasskeyView(string PasskeyId, string Name, DateTimeOffset Created, DateTimeOffset? LastUsed, Guid Aaguid);

/// <summary>
/// A member's passkeys and WebAuthn user handle: listing, renaming, deleting, and erasing them with the member.
/// </summary>
public sealed class PasskeyStore(PanDbContext db, AuditLog audit) : IMemberDataEraser
{
    /// <summary>The audit actions of passkey changes and refused sign-ins.</summary>
    public const string AddAction = "passkey.add", DeleteAction = "passkey.delete", RenameAction = "passkey.rename", SignInAction = "passkey.sign-in";

    /// <summary>The public id of a passkey: its credential id as base64url.</summary>
    public static string PublicId(byte[] credentialId) => Base64Url.EncodeToString(credentialId);

    /// <summary>The credential id a public id names, or null when it cannot be one.</summary>
    public static byte[]? CredentialId(string? passkeyId)
    {
        if (string.IsNullOrEmpty(passkeyId) || passkeyId.Length > 1364 || !Base64Url.IsValid(passkeyId, out var length) || length == 0)
        {
            return null;
        }

        return Base64Url.DecodeFromChars(passkeyId);
    }

    /// <summary>
    /// The member's user handle, made (32 random bytes) at its first registration. Why INSERT … ON CONFLICT DO NOTHING:
    /// two registrations begun at once by one member both end up with the one handle stored.
    /// </summary>
    public async Task<byte[]> UserHandleAsync(long uid, CancellationToken cancellationToken)
    {
        var fresh = RandomNumberGenerator.GetBytes(32);
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO passkey_users (uid, user_handle) VALUES ({uid}, {fresh}) ON CONFLICT (uid) DO NOTHING", cancellationToken);
        return await db.Set<PasskeyUser>().Where(u => u.Uid == uid).Select(u => u.UserHandle).SingleAsync(cancellationToken);
    }

    /// <summary>The member's passkeys, oldest first.</summary>
    public async Task<IReadOnlyList<PasskeyView>> ListAsync(long uid, CancellationToken cancellationToken) =>
        await ViewsAsync(db.Set<MemberPasskey>().Where(p => p.Uid == uid), cancellationToken);

    /// <summary>
    /// Renames the member's passkey <paramref name="credentialId"/> (<paramref name="name"/> already checked) and audits
    /// it, in one transaction: the passkey as <see cref="ListAsync"/> shows it, or null when the member has no such
    /// passkey (another member's included), renaming nothing.
    /// </summary>
    public async Task<PasskeyView?> RenameAsync(long uid, byte[] credentialId, string name, CancellationToken cancellationToken)
    {
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        var passkey = db.Set<MemberPasskey>().Where(p => p.Uid == uid && p.CredentialId == credentialId);
        if (await passkey.ExecuteUpdateAsync(u => u.SetProperty(p => p.Name, name), cancellationToken) == 0)
        {
            return null;
        }

        var renamed = (await ViewsAsync(passkey, cancellationToken)).Single();
        await audit.WriteAsync(AuditLog.Member(uid), RenameAction, AuditLog.Member(uid), "ok", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return renamed;
    }

    /// <summary>The credential ids of the member's passkeys (a registration's excludeCredentials).</summary>
    public async Task<List<byte[]>> CredentialIdsAsync(long uid, CancellationToken cancellationToken) =>
        await db.Set<MemberPasskey>().Where(p => p.Uid == uid).Select(p => p.CredentialId).ToListAsync(cancellationToken);

    /// <summary>
    /// Deletes the member's passkey <paramref name="credentialId"/> and audits it, in one transaction; false when the
    /// member has no such passkey (another member's included), deleting nothing.
    /// </summary>
    public async Task<bool> DeleteAsync(long uid, byte[] credentialId, CancellationToken cancellationToken)
    {
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        var deleted = await db.Set<MemberPasskey>().Where(p => p.Uid == uid && p.CredentialId == credentialId).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return false;
        }

        await audit.WriteAsync(AuditLog.Member(uid), DeleteAction, AuditLog.Member(uid), "ok", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The passkeys of <paramref name="passkeys"/> as ListPasskeys shows them, oldest first.</summary>
    private static async Task<List<PasskeyView>> ViewsAsync(IQueryable<MemberPasskey> passkeys, CancellationToken cancellationToken)
    {
        var rows = await passkeys.AsNoTracking().OrderBy(p => p.Created).ThenBy(p => p.Id)
            .Select(p => new { p.CredentialId, p.Name, p.Created, p.LastUsed, p.Aaguid })
            .ToListAsync(cancellationToken);
        return rows.Select(p => new PasskeyView(PublicId(p.CredentialId), p.Name, p.Created, p.LastUsed, p.Aaguid)).ToList();
    }

    /// <summary>Why: a deleted member signs in nowhere, and its passkeys' keys and handle are its data.</summary>
    public async Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken)
    {
        await db.Set<MemberPasskey>().Where(p => uids.Contains(p.Uid)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<PasskeyUser>().Where(u => uids.Contains(u.Uid)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<PasskeyChallenge>().Where(c => c.Uid != null && uids.Contains(c.Uid.Value)).ExecuteDeleteAsync(cancellationToken);
    }
}
