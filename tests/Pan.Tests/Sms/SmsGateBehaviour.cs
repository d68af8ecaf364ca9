using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Errors;
using Pan.Server.Phones;
using Pan.Server.Sms;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Sms;

/// <summary>
/// The SMS gate through DI (no RPC exposes it yet): webhook delivery, retries, the allow-list and the caps. Fixture
/// caps: phone 3/h 5/day, IP 4/h 6/day, country 8/h 12/day; allowed: +886, +852, US, +44.
/// </summary>
public abstract class SmsGateBehaviour<TFixture> : IClassFixture<TFixture>
    where TFixture : SmsFixture
{
    private readonly TFixture fixture;

    protected SmsGateBehaviour(TFixture fixture)
    {
        this.fixture = fixture;
        fixture.FreshWindow();
    }

    private SmsInbox Inbox => fixture.Inbox;

    [Fact]
    public async Task Send_PostsToAndTextToTheWebhook()
    {
        var phone = TestPhones.Taiwan();

        var result = await SendAsync(phone, TestPhones.Ip(), text: "Your Pan code is 424242");

        Assert.Equal(SmsSendResult.Ok, result);
        var message = Assert.Single(Inbox.MessagesTo(phone.E164));
        Assert.Equal("Your Pan code is 424242", message.Text);
        Assert.Equal("424242", await Inbox.WaitForCodeAsync(phone.E164, TimeSpan.FromSeconds(5)));
        Assert.Equal(SmsSendOutcome.Sent, Assert.Single(await LogAsync(phone)).Outcome);
    }

    [Fact]
    public async Task Webhook_After500_RetriesAndDeliversOnce()
    {
        var phone = TestPhones.Taiwan();
        var before = Inbox.Requests;
        Inbox.FailNext(1);

        Assert.True((await SendAsync(phone, TestPhones.Ip())).Sent);

        Assert.Equal(before + 2, Inbox.Requests);
        Assert.Single(Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task Webhook_StillFailingAfterRetries_IsDependencyUnavailable_AndCounts()
    {
        var phone = TestPhones.Taiwan();
        var before = Inbox.Requests;
        Inbox.FailNext(3, HttpStatusCode.BadGateway);

        await Assert.ThrowsAsync<DependencyUnavailableException>(() => SendAsync(phone, TestPhones.Ip()));

        Assert.Equal(before + 3, Inbox.Requests); // first attempt + Retries (2)
        Assert.Empty(Inbox.MessagesTo(phone.E164));
        Assert.Equal(SmsSendOutcome.Failed, Assert.Single(await LogAsync(phone)).Outcome);
    }

    [Fact]
    public async Task Webhook_4xx_IsNotRetried()
    {
        var phone = TestPhones.Taiwan();
        var before = Inbox.Requests;
        Inbox.FailNext(1, HttpStatusCode.BadRequest);

        await Assert.ThrowsAsync<DependencyUnavailableException>(() => SendAsync(phone, TestPhones.Ip()));

        Assert.Equal(before + 1, Inbox.Requests);
        Assert.Empty(Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task Webhook_Timeout_IsRetried()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Sms:Webhook:TimeoutSeconds"] = "1" });
        var phone = TestPhones.Taiwan();
        var before = Inbox.Requests;
        Inbox.DelayNext(1, TimeSpan.FromSeconds(30));

        Assert.True((await SendAsync(phone, TestPhones.Ip(), node)).Sent);

        Assert.Equal(before + 2, Inbox.Requests);
        Assert.Single(Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task Webhook_Unreachable_IsDependencyUnavailable()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?>
        {
            ["Pan:Sms:Webhook:Url"] = "http://127.0.0.1:9/",
            ["Pan:Sms:Webhook:Retries"] = "1",
        });

        await Assert.ThrowsAsync<DependencyUnavailableException>(() => SendAsync(TestPhones.Taiwan(), TestPhones.Ip(), node));
    }

    [Fact]
    public async Task Webhook_SendsTheConfiguredAuthorizationHeader()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Sms:Webhook:AuthorizationHeader"] = "Bearer s3cret" });
        var phone = TestPhones.Taiwan();

        await SendAsync(phone, TestPhones.Ip(), node);

        Assert.Equal("Bearer s3cret", Assert.Single(Inbox.MessagesTo(phone.E164)).Authorization);
    }

    [Fact]
    public async Task PhoneCaps_BlockWithoutCallingTheProvider_AndResetAfterTheWindow()
    {
        var phone = TestPhones.Taiwan();
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await SendAsync(phone, TestPhones.Ip())).Sent);
        }

        await AssertBlockedAsync(SmsBlockReason.PhoneHourlyCap, phone, TestPhones.Ip());

        fixture.Clock.Advance(TimeSpan.FromHours(1));
        Assert.True((await SendAsync(phone, TestPhones.Ip())).Sent);
        Assert.True((await SendAsync(phone, TestPhones.Ip())).Sent);
        await AssertBlockedAsync(SmsBlockReason.PhoneDailyCap, phone, TestPhones.Ip());

        fixture.Clock.Advance(TimeSpan.FromHours(23)); // the first three are now more than 24 h old
        Assert.True((await SendAsync(phone, TestPhones.Ip())).Sent);
        Assert.Equal(6, Inbox.MessagesTo(phone.E164).Count);
    }

    [Fact]
    public async Task IpCaps_BlockWithoutCallingTheProvider_AndResetAfterTheWindow()
    {
        var ip = TestPhones.Ip();
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await SendAsync(TestPhones.Taiwan(), ip)).Sent);
        }

        await AssertBlockedAsync(SmsBlockReason.IpHourlyCap, TestPhones.Taiwan(), ip);
        Assert.True((await SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent); // another address is not affected

        fixture.Clock.Advance(TimeSpan.FromHours(1));
        Assert.True((await SendAsync(TestPhones.Taiwan(), ip)).Sent);
        Assert.True((await SendAsync(TestPhones.Taiwan(), ip)).Sent);
        await AssertBlockedAsync(SmsBlockReason.IpDailyCap, TestPhones.Taiwan(), ip);

        fixture.Clock.Advance(TimeSpan.FromHours(23));
        Assert.True((await SendAsync(TestPhones.Taiwan(), ip)).Sent);
    }

    [Fact]
    public async Task IpCaps_CountAnIPv6Slash64AsOneClient()
    {
        for (var i = 1; i <= 4; i++)
        {
            Assert.True((await SendAsync(TestPhones.Taiwan(), IPAddress.Parse($"2001:db8:7:1::{i}"))).Sent);
        }

        await AssertBlockedAsync(SmsBlockReason.IpHourlyCap, TestPhones.Taiwan(), IPAddress.Parse("2001:db8:7:1:ffff:ffff:ffff:1"));
        Assert.True((await SendAsync(TestPhones.Taiwan(), IPAddress.Parse("2001:db8:7:2::1"))).Sent); // the next /64
    }

    [Fact]
    public async Task CountryCaps_BlockWithoutCallingTheProvider_AndResetAfterTheWindow()
    {
        for (var i = 0; i < 8; i++)
        {
            Assert.True((await SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent);
        }

        await AssertBlockedAsync(SmsBlockReason.CountryHourlyCap, TestPhones.Taiwan(), TestPhones.Ip());
        Assert.True((await SendAsync(TestPhones.HongKong(), TestPhones.Ip())).Sent); // another country is not affected

        fixture.Clock.Advance(TimeSpan.FromHours(1));
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent);
        }

        await AssertBlockedAsync(SmsBlockReason.CountryDailyCap, TestPhones.Taiwan(), TestPhones.Ip());

        fixture.Clock.Advance(TimeSpan.FromHours(23));
        Assert.True((await SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent);
    }

    [Fact]
    public async Task BlockedSends_AreLoggedButDoNotExtendTheWindow()
    {
        var phone = TestPhones.Taiwan();
        for (var i = 0; i < 3; i++)
        {
            await SendAsync(phone, TestPhones.Ip());
        }

        for (var i = 0; i < 5; i++)
        {
            fixture.Clock.Advance(TimeSpan.FromMinutes(10));
            Assert.False((await SendAsync(phone, TestPhones.Ip())).Sent);
        }

        fixture.Clock.Advance(TimeSpan.FromMinutes(10)); // one hour after the three sends, 10 minutes after the last block
        Assert.True((await SendAsync(phone, TestPhones.Ip())).Sent);

        var log = await LogAsync(phone);
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
            Assert.True((await SendAsync(TestPhones.HongKong(), ip, purpose: SmsPurpose.Internal)).Sent);
        }

        var phone = TestPhones.Taiwan();
        for (var i = 0; i < 3; i++)
        {
            await SendAsync(phone, ip, purpose: SmsPurpose.Internal);
        }

        await AssertBlockedAsync(SmsBlockReason.PhoneHourlyCap, phone, ip, SmsPurpose.Internal);
    }

    [Fact]
    public async Task AllowList_AdmitsListedCodesAndRegions_BlocksTheRest()
    {
        Assert.True((await SendAsync(TestPhones.Taiwan(), TestPhones.Ip())).Sent); // "886"
        Assert.True((await SendAsync(TestPhones.HongKong(), TestPhones.Ip())).Sent); // "+852"
        Assert.True((await SendAsync(TestPhones.UnitedStates(), TestPhones.Ip())).Sent); // "US"
        Assert.True((await SendAsync(TestPhones.UnitedKingdom(), TestPhones.Ip())).Sent); // "44"

        await AssertBlockedAsync(SmsBlockReason.CountryNotAllowed, TestPhones.Japan(), TestPhones.Ip());
        await AssertBlockedAsync(SmsBlockReason.CountryNotAllowed, TestPhones.Canada(), TestPhones.Ip()); // +1, but region CA
    }

    [Fact]
    public async Task AllowList_Empty_AdmitsEveryCountry()
    {
        var settings = fixture.Settings().Where(s => !s.Key.StartsWith("Pan:Sms:AllowedCountries", StringComparison.Ordinal)).ToDictionary();
        await using var node = await PanServer.StartAsync(fixture.Database, settings, fixture.Clock);
        var phone = TestPhones.Japan();

        Assert.True((await SendAsync(phone, TestPhones.Ip(), node)).Sent);
        Assert.Single(Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task Caps_AreSharedByEveryNode()
    {
        await using var other = await fixture.StartNodeAsync(new Dictionary<string, string?>());
        var phone = TestPhones.Taiwan();
        await SendAsync(phone, TestPhones.Ip());
        await SendAsync(phone, TestPhones.Ip(), other);
        await SendAsync(phone, TestPhones.Ip());

        await AssertBlockedAsync(SmsBlockReason.PhoneHourlyCap, phone, TestPhones.Ip(), server: other);
    }

    [Fact]
    public async Task ParallelSends_NeverExceedTheCap()
    {
        var phone = TestPhones.Taiwan();

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() => SendAsync(phone, TestPhones.Ip()))));

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
        Assert.False(await IsRiskyAsync(phone, ip));
        Assert.False(await IsRiskyAsync(phone, null));

        await SendAsync(phone, TestPhones.Ip());
        Assert.False(await IsRiskyAsync(phone, ip));
        await SendAsync(phone, TestPhones.Ip());
        Assert.True(await IsRiskyAsync(phone, TestPhones.Ip())); // two sends to the phone this hour

        for (var i = 0; i < 3; i++)
        {
            Assert.False(await IsRiskyAsync(TestPhones.Taiwan(), ip));
            await SendAsync(TestPhones.Taiwan(), ip);
        }

        Assert.True(await IsRiskyAsync(TestPhones.Taiwan(), ip)); // three sends from the address this hour
        Assert.True(await IsRiskyAsync(TestPhones.UnitedKingdom(), TestPhones.Ip())); // GB is high-risk

        fixture.Clock.Advance(TimeSpan.FromHours(1));
        Assert.False(await IsRiskyAsync(phone, ip));
    }

    [Fact]
    public async Task Send_InsideACallersTransaction_IsRefused()
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var gate = scope.ServiceProvider.GetRequiredService<SmsGate>();

        await Assert.ThrowsAsync<InvalidOperationException>(() => gate.SendAsync(TestPhones.Taiwan(), "hello", SmsPurpose.Login, null, default));
    }

    private async Task AssertBlockedAsync(SmsBlockReason reason, PhoneNumber phone, IPAddress? ip, SmsPurpose purpose = SmsPurpose.Login, PanServer? server = null)
    {
        var requests = Inbox.Requests;
        var delivered = Inbox.MessagesTo(phone.E164).Count;

        var result = await SendAsync(phone, ip, server, purpose);

        Assert.Equal(new SmsSendResult(false, reason), result);
        Assert.Equal(requests, Inbox.Requests); // the provider was not called
        Assert.Equal(delivered, Inbox.MessagesTo(phone.E164).Count);
        var last = (await LogAsync(phone))[^1];
        Assert.Equal(SmsSendOutcome.Blocked, last.Outcome);
        Assert.Equal(reason.ToString(), last.BlockedReason);
    }

    private async Task<SmsSendResult> SendAsync(PhoneNumber to, IPAddress? ip, PanServer? server = null, SmsPurpose purpose = SmsPurpose.Login, string text = "Your Pan code is 123456")
    {
        await using var scope = (server ?? fixture.Server).Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SmsGate>().SendAsync(to, text, purpose, ip, default);
    }

    private async Task<bool> IsRiskyAsync(PhoneNumber to, IPAddress? ip)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SmsGate>().IsRiskyAsync(to, ip, default);
    }

    private async Task<List<SmsSend>> LogAsync(PhoneNumber phone)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var hash = SmsKeys.Phone(phone);
        return await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<SmsSend>()
            .Where(s => s.PhoneHash == hash).OrderBy(s => s.Id).ToListAsync();
    }
}

public sealed class SmsGateBehaviour_Sqlite(SqliteSmsFixture f) : SmsGateBehaviour<SqliteSmsFixture>(f);

public sealed class SmsGateBehaviour_Postgres(PostgresSmsFixture f) : SmsGateBehaviour<PostgresSmsFixture>(f);
