using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Guests;
using EmailSyntax = Pan.Server.Email.EmailAddresses;

namespace Pan.Server.Guests;

/// <summary>
/// Whether an account name is free. An email name is taken when a live member of Pan has verified that email (verified
/// addresses are unique across Pan; an unverified one reserves nothing); a mobile name when another apinode account has it or a live phone account signs in with it;
/// a plain name when another apinode account has it (width- and case-insensitively) or a member's legacy username is it.
/// </summary>
public sealed class GuestDirectory(PanDbContext db)
{
    public async Task<bool> IsTakenAsync(AccountName name, long? exceptUid, CancellationToken cancellationToken)
    {
        if (await db.Set<GuestAccount>().AsNoTracking().AnyAsync(g => g.AccountKey == name.Key && g.Uid != exceptUid, cancellationToken))
        {
            return true;
        }

        var value = name.Value;
        return name.Type switch
        {
            AccountNameTypes.Email => await IsEmailTakenAsync(value, exceptUid, cancellationToken),
            AccountNameTypes.Mobile => await db.Accounts.AsNoTracking().AnyAsync(a => a.PhoneE164 == value && a.Deleted == null, cancellationToken),
            _ => await db.Members.AsNoTracking().AnyAsync(m => m.Username == value && m.Deleted == null && m.Uid != exceptUid, cancellationToken),
        };
    }

    public Task<bool> IsEmailTakenAsync(string email, long? exceptUid, CancellationToken cancellationToken)
    {
        var key = EmailSyntax.Key(email);
        return EmailSyntax.OwnedByAnotherAsync(db.Members.AsNoTracking(), key, exceptUid, cancellationToken);
    }

    /// <summary>The converted apinode account named by any reading of <paramref name="keys"/>, in their order.</summary>
    public async Task<GuestAccount?> FindAsync(IReadOnlyList<AccountName> keys, CancellationToken cancellationToken)
    {
        var wanted = keys.Select(k => k.Key).ToList();
        var found = await (
                from g in db.Set<GuestAccount>()
                join m in db.Members on g.Uid equals m.Uid
                where g.AccountKey != null && wanted.Contains(g.AccountKey) && !g.Temporary && m.Deleted == null
                select g)
            .AsNoTracking()
            .ToListAsync(cancellationToken);
        return found.OrderBy(g => wanted.IndexOf(g.AccountKey!)).FirstOrDefault();
    }
}
