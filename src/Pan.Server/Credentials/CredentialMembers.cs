using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Members;

namespace Pan.Server.Credentials;

/// <summary>The member whose credentials an RPC touches, with what the password policy must not be derived from.</summary>
public sealed record CredentialTarget(Member Member, string? PhoneE164)
{
    public long Uid => Member.Uid;

    /// <summary>
    /// The member's phone, email, display name and account name (a converted guest's <c>username</c>, public like the
    /// display name; the admin's ChangeMemberPassword looks at it too), plus <paramref name="newEmail"/> when one is being set.
    /// </summary>
    public IEnumerable<string?> PolicyContext(string? newEmail = null) => [PhoneE164, Member.Email, newEmail, Member.DisplayName, Member.Username];
}

/// <summary>Finds the members credential RPCs act on: the caller, or another live member under the caller's phone.</summary>
public sealed class CredentialMembers(PanDbContext db)
{
    /// <summary>
    /// <paramref name="objectId"/> empty: the member <paramref name="callerUid"/>; otherwise the live member with that
    /// object id under <paramref name="accountId"/>. Null when there is no such member. Throws nothing for a malformed
    /// object id: callers validate it with <see cref="TryParseObjectId"/> first.
    /// </summary>
    public async Task<CredentialTarget?> FindAsync(long callerUid, long accountId, Guid? objectId, CancellationToken cancellationToken)
    {
        var live = db.Members.AsNoTracking().Include(m => m.Account).Where(m => m.Deleted == null);
        var member = objectId is { } id
            ? await live.FirstOrDefaultAsync(m => m.ObjectId == id && m.AccountId == accountId, cancellationToken)
            : await live.FirstOrDefaultAsync(m => m.Uid == callerUid, cancellationToken);
        return member is null ? null : new CredentialTarget(member, member.Account?.PhoneE164);
    }

    /// <summary>True with null for an empty object id (the caller), true with the id for a valid one, false otherwise.</summary>
    public static bool TryParseObjectId(string? text, out Guid? objectId)
    {
        objectId = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (text.Length <= 64 && Guid.TryParse(text, out var id))
        {
            objectId = id;
            return true;
        }

        return false;
    }
}
