using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Server.Phones;

namespace Pan.Server.Lever;

/// <summary>Finds the phone of a live member (the phone is the member's account's).</summary>
public sealed class MemberPhones(PanDbContext db, PhoneNumbers phones, ILogger<MemberPhones> logger)
{
    /// <summary>The phone of the member <paramref name="objectId"/>; null when the member, or its account, is unknown or deleted.</summary>
    public async Task<PhoneNumber?> FindAsync(Guid objectId, CancellationToken cancellationToken)
    {
        var e164 = await db.Members.AsNoTracking()
            .Where(m => m.ObjectId == objectId && m.Deleted == null && m.Account!.Deleted == null)
            .Select(m => m.Account!.PhoneE164)
            .FirstOrDefaultAsync(cancellationToken);
        if (e164 is null)
        {
            return null;
        }

        var phone = phones.FromE164(e164);
        if (phone is null)
        {
            // Why: stored numbers were validated on the way in; one that no longer parses (metadata change) cannot get SMS.
            logger.LogWarning("Member {ObjectId} has a stored phone that is no longer valid", objectId);
        }

        return phone;
    }
}
