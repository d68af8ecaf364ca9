using System.Net;
using Pan.Data.Sms;
using Pan.Server.Sms;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Sms;

/// <summary>The SMS gate's allow-list, caps and risk rules. Fixture caps: phone 3/h 5/day, IP 4/h 6/day, country 8/h 12/day; allowed: +886, +852, US, +44; GB is high-risk.</summary>
public abstract class SmsCapsBehaviour<TFixture> : IClassFixture<TFixture>
    where TFixture : SmsFixture
{
    private readonly TFixture fixture;
    private readonly SmsGateSteps steps;

    protected SmsCapsBehaviour(TFixture fixture)
    {
        this.fixture = fixture;
        steps = new SmsGateSteps(fixture);
        fixture.FreshWindow();
    }

    private SmsInbox Inbox => fixture.Inbox;

    [Fact]
    public async Task PhoneCaps_BlockWithoutCallingTheProvider_AndResetAfterTheWindow()
    {
        var phone = TestPhones.Taiwan();
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await steps.SendAsync(phone, TestPhones.Ip())).Sent);
        }

        await steps.AssertBlockedAsync(SmsBlockReason.PhoneHourlyCap, phone, TestPhones.Ip());

        fixture.Clock.Advance(TimeSpan.FromHours(1)); // a send counts for 60 to 61 minutes (minute buckets), never less
        await steps.AssertBlockedAsync(SmsBlockReason.PhoneHourlyCap, phone, TestPhones.Ip());
        fixture.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await steps.SendAsync(phone, TestPhones.Ip())).Sent);
        Assert.True((await steps.SendAsync(phone, TestPhones.Ip())).Sent);
        await steps.AssertBlockedAsync(SmsBlockReason.PhoneDailyCap, phone, TestPhones.Ip());

        fixture.Clock.Advance(TimeSpan.FromHours(23)); // the first three are 24 h old: a send counts for 24 to 25 hours
        await steps.AssertBlockedAsync(SmsBlockReason.PhoneDailyCap, phone, TestPhones.Ip());
        fixture.Clock.Advance(TimeSpan.FromHours(1));
        Assert.True((await steps.SendAsync(phone, TestPhones.Ip())).Sent);
        Assert.Equal(6, Inbox.MessagesTo(phone.E164).Count);
    }

    [Fact]
    public async Task IpCaps_BlockWithoutCallingTheProvider_AndResetAfterTheWindow()
    {
        var ip = TestPhones.Ip();
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await steps.SendAsync(TestPhones.Taiwan(), ip)).Sent);
        }

        await steps.AssertBlockedAsync(SmsBlockReason.IpHourlyCap, TestPhones.Taiwan(), ip);
        Assert.True((await steps.SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent); // another address is not affected

        fixture.Clock.Advance(TimeSpan.FromMinutes(61));
        Assert.True((await steps.SendAsync(TestPhones.Taiwan(), ip)).Sent);
        Assert.True((await steps.SendAsync(TestPhones.Taiwan(), ip)).Sent);
        await steps.AssertBlockedAsync(SmsBlockReason.IpDailyCap, TestPhones.Taiwan(), ip);

        fixture.Clock.Advance(TimeSpan.FromHours(24));
        Assert.True((await steps.SendAsync(TestPhones.Taiwan(), ip)).Sent);
    }

    [Fact]
    public async Task IpCaps_CountAnIPv6Slash64AsOneClient()
    {
        for (var i = 1; i <= 4; i++)
        {
            Assert.True((await steps.SendAsync(TestPhones.Taiwan(), IPAddress.Parse($"2001:db8:7:1::{i}"))).Sent);
        }

        await steps.AssertBlockedAsync(SmsBlockReason.IpHourlyCap, TestPhones.Taiwan(), IPAddress.Parse("2001:db8:7:1:ffff:ffff:ffff:1"));
        Assert.True((await steps.SendAsync(TestPhones.Taiwan(), IPAddress.Parse("2001:db8:7:2::1"))).Sent); // the next /64
    }

    [Fact]
    public async Task CountryCaps_BlockWithoutCallingTheProvider_AndResetAfterTheWindow()
    {
        for (var i = 0; i < 8; i++)
        {
            Assert.True((await steps.SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent);
        }

        await steps.AssertBlockedAsync(SmsBlockReason.CountryHourlyCap, TestPhones.Taiwan(), TestPhones.Ip());
        Assert.True((await steps.SendAsync(TestPhones.HongKong(), TestPhones.Ip())).Sent); // another country is not affected

        fixture.Clock.Advance(TimeSpan.FromMinutes(61));
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await steps.SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent);
        }

        await steps.AssertBlockedAsync(SmsBlockReason.CountryDailyCap, TestPhones.Taiwan(), TestPhones.Ip());

        fixture.Clock.Advance(TimeSpan.FromHours(24));
        Assert.True((await steps.SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent);
    }

    [Fact]
    public async Task BlockedSends_AreLoggedButDoNotExtendTheWindow()
    {
        var phone = TestPhones.Taiwan();
        for (var i = 0; i < 3; i++)
        {
            await steps.SendAsync(phone, TestPhones.Ip());
        }

        for (var i = 0; i < 5; i++)
        {
            fixture.Clock.Advance(TimeSpan.FromMinutes(10));
            Assert.False((await steps.SendAsync(phone, TestPhones.Ip())).Sent);
        }

        fixture.Clock.Advance(TimeSpan.FromMinutes(11)); // 61 minutes after the three sends, 11 after the last block
        Assert.True((await steps.SendAsync(phone, TestPhones.Ip())).Sent);

        var log = await steps.LogAsync(phone);
        Assert.Equal(9, log.Count);
        Assert.Equal(5, log.Count(s => s.Outcome == SmsSendOutcome.Blocked && s.BlockedReason == nameof(SmsBlockReason.PhoneHourlyCap)));
        Assert.Equal(4, log.Count(s => s.Outcome == SmsSendOutcome.Sent));
    }

    [Fact]
    public async Task InternalSends_SkipTheIpCaps_ButNotThePhoneCaps()
    {
        var ip = TestPhones.Ip();
        for (var i = 0; i < 6; i++)
        {
            Assert.True((await steps.SendAsync(TestPhones.HongKong(), ip, purpose: SmsPurpose.Internal)).Sent);
        }

        var phone = TestPhones.Taiwan();
        for (var i = 0; i < 3; i++)
        {
            await steps.SendAsync(phone, ip, purpose: SmsPurpose.Internal);
        }

        await steps.AssertBlockedAsync(SmsBlockReason.PhoneHourlyCap, phone, ip, SmsPurpose.Internal);
    }

    [Fact]
    public async Task AllowList_AdmitsListedCodesAndRegions_BlocksTheRest()
    {
        Assert.True((await steps.SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent); // "886"
        Assert.True((await steps.SendAsync(TestPhones.HongKong(), TestPhones.Ip())).Sent); // "+852"
        Assert.True((await steps.SendAsync(TestPhones.UnitedStates(), TestPhones.Ip())).Sent); // "US"
        Assert.True((await steps.SendAsync(TestPhones.UnitedKingdom(), TestPhones.Ip())).Sent); // "44"

        await steps.AssertBlockedAsync(SmsBlockReason.CountryNotAllowed, TestPhones.Japan(), TestPhones.Ip());
        await steps.AssertBlockedAsync(SmsBlockReason.CountryNotAllowed, TestPhones.Canada(), TestPhones.Ip()); // +1, but region CA
    }

    [Fact]
    public async Task AllowList_Empty_AdmitsEveryCountry()
    {
        var settings = fixture.Settings().Where(s => !s.Key.StartsWith("Pan:Sms:AllowedCountries", StringComparison.Ordinal)).ToDictionary();
        await using var node = await PanServer.StartAsync(fixture.Database, settings, fixture.Clock);
        var phone = TestPhones.Japan();

        Assert.True((await steps.SendAsync(phone, TestPhones.Ip(), node)).Sent);
        Assert.Single(Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task Caps_AreSharedByEveryNode()
    {
        await using var other = await fixture.StartNodeAsync(new Dictionary<string, string?>());
        var phone = TestPhones.Taiwan();
        await steps.SendAsync(phone, TestPhones.Ip());
        await steps.SendAsync(phone, TestPhones.Ip(), other);
        await steps.SendAsync(phone, TestPhones.Ip());

        await steps.AssertBlockedAsync(SmsBlockReason.PhoneHourlyCap, phone, TestPhones.Ip(), server: other);
    }

    [Fact]
    public async Task ParallelSends_NeverExceedTheCap()
    {
        var phone = TestPhones.Taiwan();

        // Why 8: the country cap is 8 an hour; more racers could trip it too.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => steps.SendAsync(phone, TestPhones.Ip()))));

        var sent = results.Count(r => r.Sent);
        Assert.InRange(sent, 0, 3);
        Assert.Equal(sent, Inbox.MessagesTo(phone.E164).Count);
        Assert.All(results.Where(r => !r.Sent), r => Assert.Equal(SmsBlockReason.PhoneHourlyCap, r.Blocked));
    }

    [Fact]
    public async Task Risk_TripsOnPhoneOrIpVolume_OrAHighRiskCountry()
    {
        var phone = TestPhones.Taiwan();
        var ip = TestPhones.Ip();
        Assert.False(await steps.IsRiskyAsync(phone, ip));
        Assert.False(await steps.IsRiskyAsync(phone, null));

        await steps.SendAsync(phone, TestPhones.Ip());
        Assert.False(await steps.IsRiskyAsync(phone, ip));
        await steps.SendAsync(phone, TestPhones.Ip());
        Assert.True(await steps.IsRiskyAsync(phone, TestPhones.Ip())); // two sends to the phone this hour

        for (var i = 0; i < 3; i++)
        {
            Assert.False(await steps.IsRiskyAsync(TestPhones.Taiwan(), ip));
            await steps.SendAsync(TestPhones.Taiwan(), ip);
        }

        Assert.True(await steps.IsRiskyAsync(TestPhones.Taiwan(), ip)); // three sends from the address this hour
        Assert.True(await steps.IsRiskyAsync(TestPhones.UnitedKingdom(), TestPhones.Ip())); // GB is high-risk

        fixture.Clock.Advance(TimeSpan.FromMinutes(61));
        Assert.False(await steps.IsRiskyAsync(phone, ip));
    }
}

public sealed class SmsCapsBehaviour_Sqlite(SqliteSmsFixture f) : SmsCapsBehaviour<SqliteSmsFixture>(f);

public sealed class SmsCapsBehaviour_Postgres(PostgresSmsFixture f) : SmsCapsBehaviour<PostgresSmsFixture>(f);
