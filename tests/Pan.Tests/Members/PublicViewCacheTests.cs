using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Pan.Server.Data.Changes;
using Pan.Server.Session;
using Pan.Data.Members;

namespace Pan.Tests.Members;

/// <summary>The public-view cache's own rules, without a server: admission, what drops a copy, reads that raced a change, fullness.</summary>
public sealed class PublicViewCacheTests : IDisposable
{
    private readonly DataChangeFeed feed = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void AUidIsKept_FromItsSecondRead_AndServedAsTheSameView()
    {
        var cache = LiveCache();
        var view = View(7);

        cache.Add(7, view, cache.MarkOf(7));
        Assert.Null(cache.Get(7));

        cache.Add(7, view, cache.MarkOf(7));
        Assert.Same(view, cache.Get(7));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void AChangeToTheMember_DropsTheCopy_AChangeToAnotherRowDoesNot()
    {
        var cache = Warm(LiveCache(), 7);

        feed.Publish([new RowChange(ChangedTable.Member, 8), new RowChange(ChangedTable.Account, 7), new RowChange(ChangedTable.Session, 7)]);
        Assert.NotNull(cache.Get(7));

        feed.Publish([new RowChange(ChangedTable.Member, 7)]);
        Assert.Null(cache.Get(7));
    }

    [Fact]
    public void AReadThatRacedAChangeToItsMember_IsNotKept()
    {
        var cache = LiveCache();
        cache.Add(7, View(7), cache.MarkOf(7));
        var mark = cache.MarkOf(7);

        feed.Publish([new RowChange(ChangedTable.Member, 7)]);
        cache.Add(7, View(7), mark);

        Assert.Null(cache.Get(7));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void TheFeedGoingDark_DropsEverything_AndMarksTakenBefore()
    {
        var cache = Warm(LiveCache(), 7);
        var mark = cache.MarkOf(9);
        cache.Add(9, View(9), mark);

        feed.SetLive(false);
        Assert.Null(cache.Get(7));
        Assert.False(cache.Enabled);
        feed.SetLive(true);

        Assert.Null(cache.Get(7));
        cache.Add(9, View(9), mark);
        Assert.Null(cache.Get(9));
    }

    [Fact]
    public void ACopy_IsReadAgain_AfterItsMaxAge()
    {
        var cache = Warm(LiveCache(seconds: 30), 7);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.NotNull(cache.Get(7));

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(cache.Get(7));
    }

    [Fact]
    public void AFullCache_TakesNothingNew_UntilItsCopiesExpire()
    {
        var cache = LiveCache(entries: 2, seconds: 30);
        Warm(cache, 1);
        Warm(cache, 2);
        Warm(cache, 3);
        Assert.Equal(2, cache.Count);
        Assert.Null(cache.Get(3));
        Assert.NotNull(cache.Get(1));

        clock.Advance(TimeSpan.FromSeconds(31));
        Warm(cache, 3);

        Assert.NotNull(cache.Get(3));
        Assert.Null(cache.Get(1));
    }

    [Fact]
    public void SwitchedOff_KeepsNothing()
    {
        var cache = LiveCache(entries: 0);
        Warm(cache, 7);
        Assert.False(cache.Enabled);
        Assert.Null(cache.Get(7));
    }

    public void Dispose() => feed.Dispose();

    private PublicViewCache LiveCache(int entries = 100, int seconds = 30)
    {
        feed.SetLive(true);
        return new PublicViewCache(feed, clock, Options.Create(new MemberViewOptions { PublicViewCacheEntries = entries, PublicViewCacheSeconds = seconds }));
    }

    private static PublicViewCache Warm(PublicViewCache cache, long uid)
    {
        cache.Add(uid, View(uid), cache.MarkOf(uid));
        cache.Add(uid, View(uid), cache.MarkOf(uid));
        return cache;
    }

    private static Member View(long uid) => new() { Uid = uid, DisplayName = "m" + uid };
}
