using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Server.Members;
using PanObject = Pan.Atom.Member.Object;

namespace Pan.Server.Session;

/// <summary>The read-side queries behind the session RPCs. Every list is one query; nothing is tracked.</summary>
public sealed class MemberDirectory(
    PanDbContext db, LiveMemberCounts liveCounts, PublicMemberReader publicReader, PublicViewCache publicViews, ObjectMapper mapper)
{
    /// <summary>
    /// The live member an access token may be issued for: <paramref name="objectId"/> when given, else the account's
    /// default member (or its only live member when no default is set). Null when there is none under the account.
    /// The member comes back with its Account loaded.
    /// </summary>
    public async Task<Member?> FindUnderAccountAsync(long accountId, Guid? objectId, CancellationToken cancellationToken)
    {
        var live = db.Members.AsNoTracking().Include(m => m.Account).Where(m => m.AccountId == accountId && m.Deleted == null);
        if (objectId is { } id)
        {
            return await live.SingleOrDefaultAsync(m => m.ObjectId == id, cancellationToken);
        }

        // Why: one query brings the default member and, for an account without a usable default, up to two others.
        var candidates = await live
            .OrderByDescending(m => m.Uid == m.Account!.DefaultMemberUid)
            .ThenBy(m => m.Uid)
            .Take(2)
            .ToListAsync(cancellationToken);
        return candidates switch
        {
            [var first, ..] when first.Uid == first.Account!.DefaultMemberUid => first,
            [var only] => only,
            _ => null,
        };
    }

    /// <summary>The number of live members under an account (for can_new_child); remembered until a member changes (<see cref="LiveMemberCounts"/>).</summary>
    public async Task<int> CountLiveAsync(long accountId, CancellationToken cancellationToken)
    {
        if (liveCounts.TryGet(accountId, out var remembered))
        {
            return remembered;
        }

        var epoch = liveCounts.Epoch;
        var count = await db.Members.CountAsync(m => m.AccountId == accountId && m.Deleted == null, cancellationToken);
        liveCounts.Remember(accountId, count, epoch);
        return count;
    }

    /// <summary>The live members under <paramref name="account"/> other than <paramref name="exceptUid"/>, oldest first, with Account set.</summary>
    public async Task<List<Member>> OthersAsync(Account account, long exceptUid, CancellationToken cancellationToken)
    {
        var others = await db.Members.AsNoTracking()
            .Where(m => m.AccountId == account.Id && m.Deleted == null && m.Uid != exceptUid)
            .OrderBy(m => m.Uid)
            .ToListAsync(cancellationToken);
        others.ForEach(m => m.Account = account);
        return others;
    }

    /// <summary>The live members with any of the uids or object ids (one query per kind of id given).</summary>
    public async Task<List<Member>> ReadAsync(IReadOnlyCollection<long> uids, IReadOnlyCollection<Guid> objectIds, CancellationToken cancellationToken)
    {
        var members = new List<Member>(uids.Count + objectIds.Count);
        if (uids.Count > 0)
        {
            await foreach (var member in ByUids.GetValue(db.Model, _ => CompileByUids())(db, uids.ToArray()).WithCancellation(cancellationToken))
            {
                members.Add(member);
            }
        }

        if (objectIds.Count > 0)
        {
            var ids = objectIds.ToArray();
            var found = members.Select(m => m.Uid).ToHashSet();
            members.AddRange((await db.Members.AsNoTracking().Where(m => m.Deleted == null && ids.Contains(m.ObjectId)).ToListAsync(cancellationToken))
                .Where(m => !found.Contains(m.Uid)));
        }

        return members;
    }

    // Why compiled: ReadObject's lookup by uid is a hot public read; a compiled query skips matching the LINQ tree
    // against EF Core's query cache on every call (one per model, as in TokenService).
    private static readonly ConditionalWeakTable<IModel, Func<PanDbContext, long[], IAsyncEnumerable<Member>>> ByUids = new();

    private static Func<PanDbContext, long[], IAsyncEnumerable<Member>> CompileByUids() =>
        EF.CompileAsyncQuery((PanDbContext db, long[] uids) => db.Members.AsNoTracking().Where(m => m.Deleted == null && uids.Contains(m.Uid)));

    /// <summary>
    /// The public views (ObjectMapper.ToObject with self: false) of the live members with these uids, by uid: current
    /// copies of the public columns from <see cref="PublicViewCache"/>, the rest in one read (<see cref="PublicMemberReader"/>).
    /// </summary>
    public async Task<Dictionary<long, PanObject>> PublicViewsAsync(long[] uids, CancellationToken cancellationToken)
    {
        var views = new Dictionary<long, PanObject>(uids.Length);
        Dictionary<long, PublicViewCache.Mark>? missing = null;
        foreach (var uid in uids)
        {
            if (publicViews.Get(uid) is { } member)
            {
                views[uid] = mapper.ToObject(member, self: false);
            }
            else
            {
                missing ??= new Dictionary<long, PublicViewCache.Mark>(uids.Length);
                missing[uid] = publicViews.MarkOf(uid);
            }
        }

        if (missing is null)
        {
            return views;
        }

        foreach (var member in await publicReader.ReadAsync(db, [.. missing.Keys], cancellationToken))
        {
            views[member.Uid] = mapper.ToObject(member, self: false);
            publicViews.Add(member.Uid, member, missing[member.Uid]);
        }

        return views;
    }

    /// <summary>Sets the gender of a live member whose gender is still unset; false when it was already set (or the member is gone).</summary>
    public async Task<bool> InitGenderAsync(long uid, int gender, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.Members
            .Where(m => m.Uid == uid && m.Gender == 0 && m.Deleted == null)
            .ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Gender, gender)
                .SetProperty(m => m.Modified, now)
                .SetProperty(m => m.Version, m => m.Version + 1), cancellationToken) == 1;
}
