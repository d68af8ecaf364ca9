using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;

namespace Pan.Server.Accounts;

/// <summary>The member a phone signs in as when none is named: what an auth token needs of it.</summary>
public sealed record PhoneMember(long Uid, Guid ObjectId, long AccountId);

/// <summary>What a phone has: no live account, a live account without a live member, or the member to sign in as.</summary>
public readonly record struct PhoneDefault(bool AccountFound, PhoneMember? Member);

/// <summary>Reads phone-level accounts and the live members under them.</summary>
public sealed class AccountDirectory(PanDbContext db)
{
    // Why compiled: phone sign-in reads this on both of its steps; a compiled query skips rebuilding the LINQ
    // expression and EF Core's query-cache lookup. One per model (one per provider), as in TokenService.
    private static readonly ConditionalWeakTable<IModel, Func<PanDbContext, string, IAsyncEnumerable<PhoneMemberRow>>> DefaultMemberQueries = new();

    public Task<Account?> FindByPhoneAsync(string e164, CancellationToken cancellationToken) =>
        db.Accounts.FirstOrDefaultAsync(a => a.PhoneE164 == e164 && a.Deleted == null, cancellationToken);

    /// <summary>Whether a sign-up of <paramref name="e164"/> is refused: an account has it (an apinode mobile name does not count, see <see cref="PhoneClaims"/>).</summary>
    public Task<bool> PhoneTakenAsync(string e164, CancellationToken cancellationToken) =>
        db.Accounts.AnyAsync(a => a.PhoneE164 == e164, cancellationToken);

    public Task<List<Member>> LiveMembersAsync(long accountId, CancellationToken cancellationToken) =>
        db.Members.Where(m => m.AccountId == accountId && m.Deleted == null).OrderBy(m => m.Uid).ToListAsync(cancellationToken);

    /// <summary>
    /// The member chosen when none is named: the account's default member while it is live, otherwise its owner,
    /// otherwise its oldest live member. Null when the phone has no live member.
    /// </summary>
    public async Task<Member?> DefaultMemberAsync(Account account, CancellationToken cancellationToken) =>
        Choose(await LiveMembersAsync(account.Id, cancellationToken), account.DefaultMemberUid, m => m.Uid, m => m.IsOwner);

    /// <summary>
    /// The live account of <paramref name="e164"/> and the member <see cref="DefaultMemberAsync"/> would choose under
    /// it, in one untracked query (the account left-joined with its live members), reading only what an auth token needs.
    /// </summary>
    public async Task<PhoneDefault> DefaultMemberByPhoneAsync(string e164, CancellationToken cancellationToken)
    {
        var query = DefaultMemberQueries.GetValue(db.Model, _ => EF.CompileAsyncQuery((PanDbContext context, string phone) =>
            from a in context.Accounts
            where a.PhoneE164 == phone && a.Deleted == null
            from m in context.Members.Where(m => m.AccountId == a.Id && m.Deleted == null).DefaultIfEmpty()
            orderby a.Id, m!.Uid
            select new PhoneMemberRow((long?)a.Id, a.DefaultMemberUid, (long?)m!.Uid, (Guid?)m.ObjectId, (bool?)m.IsOwner)));
        var rows = new List<PhoneMemberRow>(4);
        await foreach (var row in query(db, e164).WithCancellation(cancellationToken))
        {
            rows.Add(row);
        }

        return Pick(rows);
    }

    /// <summary>
    /// What <see cref="DefaultMemberByPhoneAsync"/> answers for the rows of a phone's account left-joined with its live
    /// members, ordered by account id then uid (rows without an account are skipped). Shared with queries that read the
    /// account together with other rows (<see cref="Login.LoginCodeStepReader"/>).
    /// </summary>
    public static PhoneDefault Pick(IEnumerable<PhoneMemberRow> rows)
    {
        var members = new List<PhoneMemberRow>(4);
        long? accountId = null;
        long? defaultUid = null;
        foreach (var row in rows)
        {
            if (row.AccountId is null)
            {
                continue;
            }

            // Why the first account only: the phone is unique among accounts; this keeps the choice to one account regardless.
            accountId ??= row.AccountId;
            if (row.AccountId != accountId)
            {
                continue;
            }

            defaultUid = row.DefaultMemberUid;
            if (row.Uid is not null)
            {
                members.Add(row);
            }
        }

        if (accountId is null)
        {
            return new PhoneDefault(false, null);
        }

        var chosen = Choose(members, defaultUid, r => r.Uid!.Value, r => r.IsOwner == true);
        return new PhoneDefault(true, chosen is null ? null : new PhoneMember(chosen.Uid!.Value, chosen.ObjectId!.Value, accountId.Value));
    }

    /// <summary>The default member while it is live, otherwise the owner, otherwise the oldest; <paramref name="live"/> is in uid order.</summary>
    private static T? Choose<T>(List<T> live, long? defaultUid, Func<T, long> uid, Func<T, bool> isOwner)
        where T : class =>
        live.FirstOrDefault(m => uid(m) == defaultUid) ?? live.FirstOrDefault(isOwner) ?? live.FirstOrDefault();
}

/// <summary>One row of a phone's account left-joined with its live members: the account (null: none), and one live member or none.</summary>
public sealed record PhoneMemberRow(long? AccountId, long? DefaultMemberUid, long? Uid, Guid? ObjectId, bool? IsOwner);
