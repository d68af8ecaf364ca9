using System.Net;
using Microsoft.Extensions.Options;
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
        var result = await services.GetRequiredService<SmsGate>().SendAsync(to, sms.Text, sms.Purpose, ip, cancellationToken);
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
