using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;

namespace Pan.Server.Members;

/// <summary>
/// Inserts a member under an account and gives it its <c>hash_uid</c>. The uid comes from the database, so the
/// member is saved first and its hash_uid written right after, inside the caller's transaction.
/// </summary>
public sealed class MemberCreator(PanDbContext db, HashUids hashUids, TimeProvider clock)
{
    /// <summary>Adds <paramref name="member"/> to <paramref name="account"/> (new or loaded) and saves both.</summary>
    public async Task<Member> CreateAsync(Account account, Member member, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (account.Id == 0)
        {
            account.Created = now;
            account.Modified = now;
            db.Accounts.Add(account);
        }

        member.Account = account;
        member.ObjectId = member.ObjectId == Guid.Empty ? Guid.CreateVersion7(now) : member.ObjectId;
        member.Created = now;
        member.Modified = now;
        db.Members.Add(member);
        await db.SaveChangesAsync(cancellationToken);

        member.HashUid = hashUids.Encode(member.Uid);
        if (account.DefaultMemberUid is null)
        {
            account.DefaultMemberUid = member.Uid;
        }

        await db.SaveChangesAsync(cancellationToken);
        return member;
    }
}
