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
    IServiceProvider services, LiveMemberCounts liveCounts, PublicMemberReader publicReader, PublicViewCache publicViews, ObjectMapper mapper)
{
    private PanDbContext? context;

    // Why resolved on first use: ReadObject by uid on SQLite needs no context (PublicMemberReader keeps its own
    // connections), and renting a pooled context and resetting it on its return was a measurable part of that call
    // (BENCHMARKS.md). The provider is the request's scope, so it is the same context every other service of the
    // request gets.
    private PanDbContext Db => context ??= services.GetRequiredService<PanDbContext>();

    /// <summary>
    /// The live member an access token may be issued for: <paramref name="objectId"/> when given, else the account's
    /// default member (or its only live member when no default is set). Null when there is none under the account.
    /// The member comes back with its Account loaded.
    /// </summary>
    public async Task<Member?> FindUnderAccountAsync(long accountId, Guid? objectId, CancellationToken cancellationToken)
    {
        var live = Db.Members.AsNoTracking().Include(m => m.Account).Where(m => m.AccountId == accountId && m.Deleted == null);
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
        var count = await Db.Members.CountAsync(m => m.AccountId == accountId && m.Deleted == null, cancellationToken);
        liveCounts.Remember(accountId, count, epoch);
        return count;
    }

    /// <summary>The live members under <paramref name="account"/> other than <paramref name="exceptUid"/>, oldest first, with Account set.</summary>
    public async Task<List<Member>> OthersAsync(Account account, long exceptUid, CancellationToken cancellationToken)
    {
        var others = await Db.Members.AsNoTracking()
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
            await foreach (var member in ByUids.GetValue(Db.Model, _ => CompileByUids())(Db, uids.ToArray()).WithCancellation(cancellationToken))
            {
                members.Add(member);
            }
        }

        if (objectIds.Count > 0)
        {
            var ids = objectIds.ToArray();
            var found = members.Select(m => m.Uid).ToHashSet();
            members.AddRange((await Db.Members.AsNoTracking().Where(m => m.Deleted == null && ids.Contains(m.ObjectId)).ToListAsync(cancellationToken))
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
    /// The public views (ObjectMapper.ToObject with self: false) of the live members with these distinct uids, in the
    /// same order (null where there is no live member): current copies of the public columns from
    /// <see cref="PublicViewCache"/>, the rest in one read (<see cref="PublicMemberReader"/>).
    /// </summary>
    public async Task<PanObject?[]> PublicViewsAsync(long[] uids, CancellationToken cancellationToken)
    {
        // Why arrays rather than dictionaries by uid: a call asks for a few dozen uids at most, and on a large
        // directory most of them miss the cache, so this runs for nearly every uid of every call.
        var views = new PanObject?[uids.Length];
        long[]? missing = null;
        int[]? missingAt = null;
        PublicViewCache.Mark[]? marks = null;
        var missingCount = 0;
        for (var i = 0; i < uids.Length; i++)
        {
            if (publicViews.Get(uids[i]) is { } member)
            {
                views[i] = mapper.ToObject(member, self: false);
                continue;
            }

            missing ??= new long[uids.Length];
            missingAt ??= new int[uids.Length];
            marks ??= new PublicViewCache.Mark[uids.Length];
            missing[missingCount] = uids[i];
            missingAt[missingCount] = i;
            marks[missingCount] = publicViews.MarkOf(uids[i]);
            missingCount++;
        }

        if (missing is null)
        {
            return views;
        }

        if (missingCount < missing.Length)
        {
            Array.Resize(ref missing, missingCount);
        }

        var at = -1;
        foreach (var member in await publicReader.ReadAsync(publicReader.NeedsContext ? Db : null, missing, cancellationToken))
        {
            at = IndexOf(missing, member.Uid, at + 1);
            views[missingAt![at]] = mapper.ToObject(member, self: false);
            publicViews.Add(member.Uid, member, marks![at]);
        }

        return views;
    }

    /// <summary>Where <paramref name="uid"/> is in <paramref name="uids"/>, looking from <paramref name="from"/> on and then from the start.</summary>
    /// <remarks>Why from the last one found: SQLite returns the rows in the order of the uids, so this is one step per row there.</remarks>
    private static int IndexOf(long[] uids, long uid, int from)
    {
        for (var n = 0; n < uids.Length; n++)
        {
            var i = (from + n) % uids.Length;
            if (uids[i] == uid)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"The public read returned uid {uid}, which was not asked for.");
    }

    /// <summary>Sets the gender of a live member whose gender is still unset; false when it was already set (or the member is gone).</summary>
    public async Task<bool> InitGenderAsync(long uid, int gender, DateTimeOffset now, CancellationToken cancellationToken) =>
        await Db.Members
            .Where(m => m.Uid == uid && m.Gender == 0 && m.Deleted == null)
            .ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Gender, gender)
                .SetProperty(m => m.Modified, now)
                .SetProperty(m => m.Version, m => m.Version + 1), cancellationToken) == 1;
}
