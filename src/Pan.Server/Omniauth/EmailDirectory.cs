using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Server.Members;

namespace Pan.Server.Omniauth;

/// <summary>
/// Whether a live member has verified an email (case-insensitive, by <c>members.email_key</c>): <c>email_existed</c>'s
/// answer. Why verified only: an unverified address belongs to nobody (any member may type any address in, and several
/// may hold one), so an address held only unverified "does not exist", as sign-up and social sign-in treat it.
/// </summary>
public sealed class EmailDirectory(PanDbContext db)
{
    public Task<bool> ExistsAsync(string email, CancellationToken cancellationToken)
    {
        var key = EmailAddresses.Key(email);
        return db.Members.AnyAsync(m => m.EmailKey == key && m.EmailVerified && m.Deleted == null, cancellationToken);
    }
}
