using System.Net;
using System.Text.Json;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Outbox;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>A text message to queue: for whom, to which number, what it says, why, from which client, until when it is worth sending, and the reservation it fulfils.</summary>
public sealed record QueuedSms(
    long Uid, string Kind, PhoneNumber To, string Text, SmsPurpose Purpose, IPAddress? ClientIp, DateTimeOffset Expires, long? DeliveryAttemptId);

/// <summary>
/// Queues text messages in <c>sms_outbox</c> through the caller's <see cref="PanDbContext"/>, so the row commits (or not)
/// with the code it carries (SECURITY 21); <see cref="SmsOutboxSender"/> sends it through the <see cref="SmsGate"/>. A
/// new message of a kind abandons the member's pending one of that kind and blanks its payload (<see cref="OutboxQueue"/>).
/// </summary>
public sealed class SmsOutbox(PanDbContext db, TimeProvider clock, SmsOutboxSignal signal)
{
    /// <summary>The kind of the password-reset SMS.</summary>
    public const string ResetPassword = "ResetPassword";

    /// <summary>Adds the row (saved, not committed: the caller owns the transaction). Call <see cref="Wake"/> after the commit.</summary>
    public Task EnqueueAsync(QueuedSms sms, CancellationToken cancellationToken) =>
        OutboxQueue.AddAsync(db, clock, new SmsOutboxEntry
        {
            Kind = sms.Kind,
            Uid = sms.Uid,
            DeliveryAttemptId = sms.DeliveryAttemptId,
            Payload = new SmsOutboxPayload(sms.To.E164, sms.Text, sms.Purpose, sms.ClientIp?.ToString()).ToJson(),
            Expires = sms.Expires,
        }, cancellationToken);

    /// <summary>Tells this node's sender that a committed row is waiting, so the SMS leaves now rather than at the next poll.</summary>
    public void Wake() => signal.Wake();
}

/// <summary>The secret part of an SMS outbox row: the number, the text (with its code), the purpose and the requesting client's address.</summary>
public sealed record SmsOutboxPayload(string To, string Text, SmsPurpose Purpose, string? ClientIp)
{
    public static SmsOutboxPayload Parse(string json) =>
        JsonSerializer.Deserialize<SmsOutboxPayload>(json) ?? throw new JsonException("An empty outbox payload.");

    public string ToJson() => JsonSerializer.Serialize(this);
}

/// <summary>Wakes this node's <see cref="SmsOutboxWorker"/>; several wakes before it looks count as one.</summary>
public sealed class SmsOutboxSignal : OutboxSignal;
