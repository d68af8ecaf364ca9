using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Errors;
using Pan.Server.Sms;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Sms;

/// <summary>The SMS gate delivering through the webhook provider to a real loopback HTTP server: retries, timeouts, give-up.</summary>
public abstract class SmsDeliveryBehaviour<TFixture> : IClassFixture<TFixture>
    where TFixture : SmsFixture
{
    private readonly TFixture fixture;
    private readonly SmsGateSteps steps;

    protected SmsDeliveryBehaviour(TFixture fixture)
    {
        this.fixture = fixture;
        steps = new SmsGateSteps(fixture);
        fixture.FreshWindow();
    }

    private SmsInbox Inbox => fixture.Inbox;

    [Fact]
    public async Task Send_PostsToAndTextToTheWebhook()
    {
        var phone = TestPhones.Taiwan();

        var result = await steps.SendAsync(phone, TestPhones.Ip(), text: "Your Pan code is 424242");

        Assert.Equal(SmsSendResult.Ok, result);
        var message = Assert.Single(Inbox.MessagesTo(phone.E164));
        Assert.Equal("Your Pan code is 424242", message.Text);
        Assert.Equal("424242", await Inbox.WaitForCodeAsync(phone.E164, TimeSpan.FromSeconds(5)));
        Assert.Equal(SmsSendOutcome.Sent, Assert.Single(await steps.LogAsync(phone)).Outcome);
    }

    [Fact]
    public async Task Webhook_After500_RetriesAndDeliversOnce()
    {
        var phone = TestPhones.Taiwan();
        var before = Inbox.Requests;
        Inbox.FailNext(1);

        Assert.True((await steps.SendAsync(phone, TestPhones.Ip())).Sent);

        Assert.Equal(before + 2, Inbox.Requests);
        Assert.Single(Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task Webhook_StillFailingAfterRetries_IsDependencyUnavailable_AndCounts()
    {
        var phone = TestPhones.Taiwan();
        var before = Inbox.Requests;
        Inbox.FailNext(3, HttpStatusCode.BadGateway);

        await Assert.ThrowsAsync<DependencyUnavailableException>(() => steps.SendAsync(phone, TestPhones.Ip()));

        Assert.Equal(before + 3, Inbox.Requests); // first attempt + Retries (2)
        Assert.Empty(Inbox.MessagesTo(phone.E164));
        Assert.Equal(SmsSendOutcome.Failed, Assert.Single(await steps.LogAsync(phone)).Outcome);
    }

    [Fact]
    public async Task Webhook_4xx_IsNotRetried()
    {
        var phone = TestPhones.Taiwan();
        var before = Inbox.Requests;
        Inbox.FailNext(1, HttpStatusCode.BadRequest);

        await Assert.ThrowsAsync<DependencyUnavailableException>(() => steps.SendAsync(phone, TestPhones.Ip()));

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

        Assert.True((await steps.SendAsync(phone, TestPhones.Ip(), node)).Sent);

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

        await Assert.ThrowsAsync<DependencyUnavailableException>(() => steps.SendAsync(TestPhones.Taiwan(), TestPhones.Ip(), node));
    }

    [Fact]
    public async Task Webhook_SendsTheConfiguredAuthorizationHeader()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Sms:Webhook:AuthorizationHeader"] = "Bearer s3cret" });
        var phone = TestPhones.Taiwan();

        await steps.SendAsync(phone, TestPhones.Ip(), node);

        Assert.Equal("Bearer s3cret", Assert.Single(Inbox.MessagesTo(phone.E164)).Authorization);
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
}

public sealed class SmsDeliveryBehaviour_Sqlite(SqliteSmsFixture f) : SmsDeliveryBehaviour<SqliteSmsFixture>(f);

public sealed class SmsDeliveryBehaviour_Postgres(PostgresSmsFixture f) : SmsDeliveryBehaviour<PostgresSmsFixture>(f);
