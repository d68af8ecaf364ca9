using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Server.Data.Changes;
using Pan.Server.Tokens;

namespace Pan.Tests.Tokens;

/// <summary>The cache's own rules, without a server: what it keeps, what drops a copy, and reads that raced a change.</summary>
public sealed class AccessTokenCacheTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly DataChangeFeed feed = new();

    [Fact]
    public void AReadThatRacedAChange_IsNotKept()
    {
        var cache = LiveCache();
        var (hash, info) = Token(uid: 7);
        var before = cache.Stamp;
        feed.Publish([new RowChange(ChangedTable.Session, 99)]);

        Add(cache, hash, info, before);

        Assert.Null(cache.Get(hash, Now));
        Assert.Equal(0, cache.Count);
    }

    [Theory]
    [InlineData(ChangedTable.Member, 7)]
    [InlineData(ChangedTable.Account, 70)]
    [InlineData(ChangedTable.Session, 700)]
    public void AChangeToTheTokensMemberAccountOrSession_DropsTheCopy(ChangedTable table, long id)
    {
        var cache = LiveCache();
        var (hash, info) = Token(uid: 7);
        Add(cache, hash, info, cache.Stamp);
        Assert.NotNull(cache.Get(hash, Now));

        feed.Publish([new RowChange(table, id)]);

        Assert.Null(cache.Get(hash, Now));
    }

    [Fact]
    public void AChangeToAnotherMember_KeepsTheCopy_AndHitsAreCopies()
    {
        var cache = LiveCache();
        var (hash, info) = Token(uid: 7);
        Add(cache, hash, info, cache.Stamp);

        feed.Publish([new RowChange(ChangedTable.Member, 8)]);

        var first = cache.Get(hash, Now)!;
        first.Member.DisplayName = "changed by a caller";
        Assert.Equal("bm7", cache.Get(hash, Now)!.Member.DisplayName);
        Assert.Same(first.Account, first.Member.Account);
    }

    [Fact]
    public void ExpiredTokens_OldCopies_AndADarkFeed_AreNotAnswered()
    {
        var cache = LiveCache(seconds: 30);
        var (hash, info) = Token(uid: 7, expires: Now.AddMinutes(1));
        Add(cache, hash, info, cache.Stamp);

        Assert.Null(cache.Get(hash, Now.AddMinutes(1)));
        Add(cache, hash, info, cache.Stamp);
        Assert.Null(cache.Get(hash, Now.AddSeconds(30)));

        Add(cache, hash, info, cache.Stamp);
        feed.SetLive(false);
        Assert.Null(cache.Get(hash, Now));
        feed.SetLive(true);
        Assert.Null(cache.Get(hash, Now));
        Assert.Equal(0, cache.Count);
    }

    public void Dispose() => feed.Dispose();

    private AccessTokenCache LiveCache(int seconds = 30)
    {
        feed.SetLive(true);
        return new AccessTokenCache(feed, Options.Create(new TokenOptions { CacheEntries = 100, CacheSeconds = seconds }));
    }

    private static (byte[] Hash, AccessTokenInfo Info) Token(long uid, DateTimeOffset? expires = null) =>
        (SHA256.HashData(BitConverter.GetBytes(uid)), new AccessTokenInfo(uid, Guid.NewGuid(), uid * 10, uid * 100, "jkforum", expires ?? Now.AddHours(1), AuthMethods.Phone));

    private static void Add(AccessTokenCache cache, byte[] hash, AccessTokenInfo info, long stamp) =>
        cache.Add(hash, info, new Member { Uid = info.Uid, AccountId = info.AccountId, DisplayName = "bm" + info.Uid }, new Account { Id = info.AccountId }, stamp, Now);
}
