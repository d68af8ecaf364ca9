using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Server.Phones;

namespace Pan.Server.Lever;

/// <summary>
/// A live member's phone as SendSMS needs it: <paramref name="HasPhone"/> false for a member whose account has no phone
/// (imported, guest, social login); <paramref name="Phone"/> null with <paramref name="HasPhone"/> true for a stored
/// number that no longer parses.
/// </summary>
public sealed record MemberPhone(bool HasPhone, PhoneNumber? Phone);

/// <summary>Finds the phone of a live member (the phone is the member's account's).</summary>
public sealed class MemberPhones(PanDbContext db, PhoneNumbers phones, ILogger<MemberPhones> logger)
{
    /// <summary>The phone of the member <paramref name="objectId"/>; null when the member, or its account, is unknown or deleted.</summary>
    public async Task<MemberPhone?> FindAsync(Guid objectId, CancellationToken cancellationToken)
    {
        var found = await db.Members.AsNoTracking()
            .Where(m => m.ObjectId == objectId && m.Deleted == null && m.Account!.Deleted == null)
            .Select(m => new { m.Account!.PhoneE164 })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }

        if (found.PhoneE164 is null)
        {
            return new MemberPhone(false, null);
        }

        var phone = phones.FromE164(found.PhoneE164);
        if (phone is null)
        {
            // Why: stored numbers were validated on the way in; one that no longer parses (metadata change) cannot get SMS.
            logger.LogWarning("Member {ObjectId} has a stored phone that is no longer valid", objectId);
        }

        return new MemberPhone(true, phone);
    }
}
