using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Server.Members;

namespace Pan.Server.Omniauth;

/// <summary>Whether a live member has an email (case-insensitive, by <c>members.email_key</c>): <c>email_existed</c>'s answer.</summary>
public sealed class EmailDirectory(PanDbContext db)
{
    public Task<bool> ExistsAsync(string email, CancellationToken cancellationToken)
    {
        var key = EmailAddresses.Key(email);
        return db.Members.AnyAsync(m => m.EmailKey == key && m.Deleted == null, cancellationToken);
    }
}
