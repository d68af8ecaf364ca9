using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Outbox;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary><c>Pan:Sms:Outbox:*</c>: the reset SMS's outbox (<see cref="OutboxOptions"/>); an SMS is given up when its code expires.</summary>
public sealed class SmsOutboxOptions : OutboxOptions
{
    public const string Section = "Pan:Sms:Outbox";
}

/// <summary>
/// Sends queued text messages (<c>sms_outbox</c>) through <see cref="SmsGate.SendAsync"/>, so the country allow-list
/// and the per-phone, per-IP (the requesting client's) and per-country caps apply at the moment of sending, and a
/// blocked send calls no provider (SECURITY 8): the row ends Blocked, its text dropped, its reservation Skipped. A
/// provider that is down throws, and the row is retried until its code expires (<see cref="OutboxSender{TEntry}"/>).
/// One row counts once against the caps however often it is tried: the first attempt's log row is recorded on the row
/// (<see cref="SmsOutboxEntry.SmsSendId"/>, in the commit that counts it) and a retry resends under it
/// (<see cref="SmsGate.ResendAsync"/>) without counting or checking the caps again.
/// </summary>
public sealed class SmsOutboxSender(
    IServiceScopeFactory scopes,
    PhoneNumbers phones,
    TimeProvider clock,
    IOptions<SmsOutboxOptions> options,
    IOptions<SmsWebhookOptions> webhook,
    ILogger<SmsOutboxSender> logger)
    : OutboxSender<SmsOutboxEntry>(scopes, clock, options.Value, "SMS", logger)
{
    protected override async Task<OutboxDelivery> DeliverAsync(IServiceProvider services, SmsOutboxEntry row, string payload, CancellationToken cancellationToken)
    {
        var sms = SmsOutboxPayload.Parse(payload);
        // Why an exception: the number was valid when queued; the outbox records the failure by type (never the number).
        var to = phones.FromE164(sms.To) ?? throw new InvalidOperationException("A queued SMS holds a number that no longer parses.");
        var ip = sms.ClientIp is null ? null : IPAddress.Parse(sms.ClientIp);
        var gate = services.GetRequiredService<SmsGate>();
        if (row.SmsSendId is { } sendId)
        {
            // Why no second count: the first attempt passed the caps and counted; a provider outage must not spend the
            // member's SMS allowance (a later legitimate code refused as if the phone had been texted again and again).
            var resent = await gate.ResendAsync(sendId, to, sms.Text, sms.Purpose, cancellationToken);
            return resent.Sent ? OutboxDelivery.Sent : OutboxDelivery.Blocked(resent.Blocked.ToString());
        }

        // Why the row's claim in the condition: a sender that lost its lease records nothing on the row.
        var db = services.GetRequiredService<PanDbContext>();
        var (id, attempts) = (row.Id, row.Attempts);
        var result = await gate.SendAsync(to, sms.Text, sms.Purpose, ip, cancellationToken, (logged, ct) =>
            db.Set<SmsOutboxEntry>().Where(e => e.Id == id && e.Attempts == attempts)
                .ExecuteUpdateAsync(u => u.SetProperty(e => e.SmsSendId, logged), ct));
        return result.Sent ? OutboxDelivery.Sent : OutboxDelivery.Blocked(result.Blocked.ToString());
    }

    /// <summary>
    /// One whole webhook send with its retries (<see cref="OutboxSender{TEntry}.LeaseFor"/>). Why the webhook's settings
    /// for every provider: it is the one HTTP provider Pan ships; the console provider returns at once.
    /// </summary>
    protected override TimeSpan Lease() => LeaseFor(webhook.Value.TimeoutSeconds, webhook.Value.Retries, webhook.Value.RetryDelayMilliseconds);
}

/// <summary>This node's sender of queued text messages (<see cref="OutboxWorker{TSender, TOptions}"/>).</summary>
public sealed class SmsOutboxWorker(IServiceProvider services, SmsOutboxSignal signal, IOptions<SmsOutboxOptions> options, ILogger<SmsOutboxWorker> logger)
    : OutboxWorker<SmsOutboxSender, SmsOutboxOptions>(services, signal, options, "SMS", logger);
