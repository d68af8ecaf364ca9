using System.Text.Json;
using Pan.Data;
using Pan.Data.Email;
using Pan.Server.Outbox;

namespace Pan.Server.Email;

/// <summary>A mail to queue: for whom, which kind, what it says, until when it is worth sending, and the reservation it fulfils.</summary>
public sealed record QueuedMail(
    long Uid, EmailKind Kind, string To, string? DisplayName, string? Locale, EmailModel Model, DateTimeOffset Expires, long? DeliveryAttemptId);

/// <summary>
/// Queues mail in <c>mail_outbox</c> through the caller's <see cref="PanDbContext"/>, so the row commits (or not) with
/// the code it carries (SECURITY 21); <see cref="MailOutboxSender"/> sends it. A new mail of a kind abandons the
/// member's pending one of that kind (its code died with the new one) and blanks its payload (<see cref="OutboxQueue"/>).
/// </summary>
public sealed class MailOutbox(PanDbContext db, TimeProvider clock, MailOutboxSignal signal)
{
    public const string Replaced = OutboxQueue.Replaced;

    /// <summary>Adds the row (saved, not committed: the caller owns the transaction). Call <see cref="Wake"/> after the commit.</summary>
    public Task EnqueueAsync(QueuedMail mail, CancellationToken cancellationToken) =>
        OutboxQueue.AddAsync(db, clock, new MailOutboxEntry
        {
            Kind = mail.Kind.ToString(),
            Uid = mail.Uid,
            DeliveryAttemptId = mail.DeliveryAttemptId,
            Payload = MailOutboxPayload.Of(mail).ToJson(),
            Expires = mail.Expires,
        }, cancellationToken);

    /// <summary>Tells this node's sender that a committed row is waiting, so the mail leaves now rather than at the next poll.</summary>
    public void Wake() => signal.Wake();
}

/// <summary>The secret part of an outbox row: everything needed to render and address the mail.</summary>
public sealed record MailOutboxPayload(string To, string? DisplayName, string? Locale, string? Code, string? Link, string? InputLink, int Minutes)
{
    public static MailOutboxPayload Of(QueuedMail mail) => new(
        mail.To, mail.DisplayName, mail.Locale, mail.Model.Code, mail.Model.Link?.AbsoluteUri, mail.Model.InputLink?.AbsoluteUri, mail.Model.Minutes);

    public static MailOutboxPayload Parse(string json) =>
        JsonSerializer.Deserialize<MailOutboxPayload>(json) ?? throw new JsonException("An empty outbox payload.");

    public string ToJson() => JsonSerializer.Serialize(this);

    public EmailModel Model() => new(DisplayName, Code, Link is null ? null : new Uri(Link), InputLink is null ? null : new Uri(InputLink), Minutes);
}

/// <summary>Wakes this node's <see cref="MailOutboxWorker"/>; several wakes before it looks count as one.</summary>
public sealed class MailOutboxSignal : OutboxSignal;
