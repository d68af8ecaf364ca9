using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Server.Data.Changes;

namespace Pan.Server.Tokens;

/// <summary>
/// This node's copies of recently checked access tokens with their member and account, so that ValidateAccessToken,
/// Me and the other token-checked calls do not query the database for a token checked a moment ago.
/// </summary>
/// <remarks>
/// <para>A copy is used only while all of these hold: the <see cref="DataChangeFeed"/> is live (on PostgreSQL: this
/// node's LISTEN stands); no committed change to the token's member, account or auth session has been heard since the
/// copy was made (each changed row gets a version; a copy remembers the versions it was made under); the token has not
/// expired; the copy is younger than <c>Pan:Tokens:CacheSeconds</c>. Revocation (logout, password change, deletion,
/// token-generation bump) always changes one of those rows, so it reaches the copies through the feed.</para>
/// <para>A copy is stored only if no change at all was heard between the start of the database read and the store
/// (<see cref="Stamp"/>), so a read that raced a revocation is never kept.</para>
/// </remarks>
public sealed class AccessTokenCache : IDisposable
{
    private readonly ConcurrentDictionary<TokenKey, Entry> entries = new();
    private readonly DataChangeFeed feed;
    private readonly ChangedRowVersions versions;
    private readonly int capacity;
    private readonly TimeSpan maxAge;
    private int entryCount;
    private long hits;
    private long misses;

    public AccessTokenCache(DataChangeFeed feed, IOptions<TokenOptions> options)
    {
        this.feed = feed;
        capacity = options.Value.CacheEntries;
        maxAge = TimeSpan.FromSeconds(options.Value.CacheSeconds);
        // Why 4 × capacity: versions of changed rows pile up; forgetting them voids every copy, so not too often.
        versions = new ChangedRowVersions(feed, Math.Max(capacity, 1) * 4);
        versions.EpochStarted += Clear;
    }

    /// <summary>False when caching is switched off (<c>Pan:Tokens:CacheEntries=0</c>) or the change feed is not live.</summary>
    public bool Enabled => capacity > 0 && feed.Live;

    /// <summary>Moves on every change heard; take it before a database read and pass it to <see cref="Add"/>.</summary>
    public long Stamp => versions.Stamp;

    /// <summary>Checks answered from memory since start.</summary>
    public long Hits => Interlocked.Read(ref hits);

    /// <summary>Checks that went to the database since start (while enabled).</summary>
    public long Misses => Interlocked.Read(ref misses);

    public int Count => Volatile.Read(ref entryCount);

    /// <summary>The copy for <paramref name="hash"/> if there is a usable one; the member and account are fresh copies.</summary>
    internal CachedToken? Get(byte[] hash, DateTimeOffset now)
    {
        if (!Enabled)
        {
            return null;
        }

        var key = new TokenKey(hash);
        if (entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires > now && now - entry.Made < maxAge && IsCurrent(entry)
                && CryptographicOperations.FixedTimeEquals(entry.Hash, hash))
            {
                Interlocked.Increment(ref hits);
                var account = entry.Account.Copy();
                var member = entry.Member.Copy();
                member.Account = account;
                return new CachedToken(entry.Info, member, account);
            }

            Remove(key, entry);
        }

        Interlocked.Increment(ref misses);
        return null;
    }

    /// <summary>
    /// Keeps a copy of a live token read from the database, unless any change was heard since
    /// <paramref name="stampBeforeRead"/> (then the read may predate a revocation and is not kept).
    /// </summary>
    internal void Add(byte[] hash, AccessTokenInfo info, Member member, Account account, long stampBeforeRead, DateTimeOffset now)
    {
        if (!Enabled || Stamp != stampBeforeRead)
        {
            return;
        }

        if (Volatile.Read(ref entryCount) >= capacity)
        {
            // Why: a full cache starts over rather than tracking recency on every hit; at the default size this happens
            // only with more distinct live tokens in CacheSeconds than entries, where a cache helps little anyway.
            Clear();
        }

        var entry = new Entry(
            (byte[])hash.Clone(), info, member.Copy(), account.Copy(), info.Expires, now,
            VersionOf(new RowChange(ChangedTable.Member, info.Uid)),
            VersionOf(new RowChange(ChangedTable.Account, info.AccountId)),
            VersionOf(new RowChange(ChangedTable.Session, info.SessionId)));
        var key = new TokenKey(hash);
        entries.AddOrUpdate(key, _ =>
        {
            Interlocked.Increment(ref entryCount);
            return entry;
        }, (_, _) => entry);

        // Why: a change heard while the copy was being stored may already have passed over this key.
        if (Stamp != stampBeforeRead)
        {
            Remove(key, entry);
        }
    }

    public void Dispose() => versions.Dispose();

    private void Clear()
    {
        entries.Clear();
        Volatile.Write(ref entryCount, 0);
    }

    private bool IsCurrent(Entry entry) =>
        VersionOf(new RowChange(ChangedTable.Member, entry.Info.Uid)) == entry.MemberVersion
        && VersionOf(new RowChange(ChangedTable.Account, entry.Info.AccountId)) == entry.AccountVersion
        && VersionOf(new RowChange(ChangedTable.Session, entry.Info.SessionId)) == entry.SessionVersion;

    private long VersionOf(RowChange row) => versions.VersionOf(row);

    private void Remove(TokenKey key, Entry entry)
    {
        if (entries.TryRemove(new KeyValuePair<TokenKey, Entry>(key, entry)))
        {
            Interlocked.Decrement(ref entryCount);
        }
    }

    private sealed record Entry(
        byte[] Hash, AccessTokenInfo Info, Member Member, Account Account, DateTimeOffset Expires, DateTimeOffset Made,
        long MemberVersion, long AccountVersion, long SessionVersion);

    /// <summary>The 256-bit token hash as a dictionary key without allocating.</summary>
    private readonly record struct TokenKey(ulong A, ulong B, ulong C, ulong D)
    {
        public TokenKey(byte[] hash)
            : this(Read(hash, 0), Read(hash, 8), Read(hash, 16), Read(hash, 24))
        {
        }

        private static ulong Read(byte[] hash, int offset) => MemoryMarshal.Read<ulong>(hash.AsSpan(offset, 8));
    }
}

/// <summary>A usable cached token: its facts and private copies of its member (with <c>Account</c> set) and account.</summary>
internal sealed record CachedToken(AccessTokenInfo Info, Member Member, Account Account);
