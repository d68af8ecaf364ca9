using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Phones;
using Pan.Server.Sms;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Sms;

/// <summary>Drives the SMS gate of a fixture's server through DI (no RPC exposes it yet) and reads its send log.</summary>
public sealed class SmsGateSteps(SmsFixture fixture)
{
    private SmsInbox Inbox => fixture.Inbox;

    /// <summary>Asserts the send is blocked for <paramref name="reason"/>, the provider is not called and the block is logged.</summary>
    public async Task AssertBlockedAsync(SmsBlockReason reason, PhoneNumber phone, IPAddress? ip, SmsPurpose purpose = SmsPurpose.Login, PanServer? server = null)
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

    public async Task<SmsSendResult> SendAsync(PhoneNumber to, IPAddress? ip, PanServer? server = null, SmsPurpose purpose = SmsPurpose.Login, string text = "Your Pan code is 123456")
    {
        await using var scope = (server ?? fixture.Server).Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SmsGate>().SendAsync(to, text, purpose, ip, default);
    }

    public async Task<bool> IsRiskyAsync(PhoneNumber to, IPAddress? ip)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SmsGate>().IsRiskyAsync(to, ip, default);
    }

    public async Task<List<SmsSend>> LogAsync(PhoneNumber phone)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var hash = SmsKeys.Phone(phone);
        return await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<SmsSend>()
            .Where(s => s.PhoneHash == hash).OrderBy(s => s.Id).ToListAsync();
    }
}
