using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;
using Pan.Data.Members;
using Pan.Server.DisplayNames;
using Pan.Server.Email;
using Pan.Server.Phones;

namespace Pan.Server.Recovery;

/// <summary>
/// Finds the member a recovery request names. Only a live member whose display name matches (case- and width-folded)
/// and whose email is verified (by email) or whose account has the phone (by phone) is found: a typo'd, unverified
/// address never receives a reset.
/// </summary>
public sealed class RecoveryMembers(PanDbContext db)
{
    public const int MaxDisplayNameLength = 64;

    public Task<Member?> ByEmailAsync(string address, string displayName, CancellationToken cancellationToken)
    {
        var key = EmailAddresses.Key(address);
        var name = DisplayNameRules.Key(displayName);
        return db.Members.AsNoTracking()
            .FirstOrDefaultAsync(m => m.EmailKey == key && m.DisplayNameKey == name && m.EmailVerified && m.Deleted == null, cancellationToken);
    }

    public Task<Member?> ByPhoneAsync(PhoneNumber phone, string displayName, CancellationToken cancellationToken)
    {
        var name = DisplayNameRules.Key(displayName);
        return (
                from m in db.Members.AsNoTracking()
                join a in db.Accounts on m.AccountId equals a.Id
                where a.PhoneE164 == phone.E164 && a.Deleted == null && m.DisplayNameKey == name && m.Deleted == null
                select m)
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>True while the member of a reset challenge is live and still has the verified address it was mailed to.</summary>
    public Task<bool> StillHasAsync(EmailCode challenge, CancellationToken cancellationToken)
    {
        var (uid, key) = (challenge.Uid, challenge.AddressKey);
        return db.Members.AnyAsync(m => m.Uid == uid && m.Deleted == null && m.EmailKey == key && m.EmailVerified, cancellationToken);
    }
}
