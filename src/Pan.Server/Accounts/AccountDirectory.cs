using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;

namespace Pan.Server.Accounts;

/// <summary>Reads phone-level accounts and the live members under them.</summary>
public sealed class AccountDirectory(PanDbContext db)
{
    public Task<Account?> FindByPhoneAsync(string e164, CancellationToken cancellationToken) =>
        db.Accounts.FirstOrDefaultAsync(a => a.PhoneE164 == e164 && a.Deleted == null, cancellationToken);

    public Task<bool> PhoneTakenAsync(string e164, CancellationToken cancellationToken) =>
        db.Accounts.AnyAsync(a => a.PhoneE164 == e164, cancellationToken);

    public Task<List<Member>> LiveMembersAsync(long accountId, CancellationToken cancellationToken) =>
        db.Members.Where(m => m.AccountId == accountId && m.Deleted == null).OrderBy(m => m.Uid).ToListAsync(cancellationToken);

    /// <summary>
    /// The member chosen when none is named: the account's default member while it is live, otherwise its owner,
    /// otherwise its oldest live member. Null when the phone has no live member.
    /// </summary>
    public async Task<Member?> DefaultMemberAsync(Account account, CancellationToken cancellationToken)
    {
        var members = await LiveMembersAsync(account.Id, cancellationToken);
        return members.FirstOrDefault(m => m.Uid == account.DefaultMemberUid)
            ?? members.FirstOrDefault(m => m.IsOwner)
            ?? members.FirstOrDefault();
    }
}
