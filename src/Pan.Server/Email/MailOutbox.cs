using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;

namespace Pan.Server.Email;

/// <summary>A mail to queue: for whom, which kind, what it says, until when it is worth sending, and the reservation it fulfils.</summary>
public sealed record QueuedMail(
    long Uid, EmailKind Kind, string To, string? DisplayName, string? Locale, EmailModel Model, DateTimeOffset Expires, long? DeliveryAttemptId);

/// <summary>
/// Queues mail in <c>mail_outbox</c> through the caller's <see cref="PanDbContext"/>, so the row commits (or not) with
/// the code it carries (SECURITY 21); <see cref="MailOutboxSender"/> sends it. A new mail of a kind abandons the
/// member's pending one of that kind (its code died with the new one) and blanks its payload.
/// </summary>
public sealed class MailOutbox(PanDbContext db, TimeProvider clock, MailOutboxSignal signal)
{
    public const string Replaced = "replaced by a newer mail";

    /// <summary>Adds the row (saved, not committed: the caller owns the transaction). Call <see cref="Wake"/> after the commit.</summary>
    public async Task EnqueueAsync(QueuedMail mail, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var (uid, kind) = (mail.Uid, mail.Kind.ToString());
        var outbox = db.Set<MailOutboxEntry>();
        await db.Set<DeliveryAttempt>()
            .Where(a => outbox.Any(e => e.DeliveryAttemptId == a.Id && e.Uid == uid && e.Kind == kind && e.State == MailOutboxState.Pending))
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.Outcome, DeliveryOutcome.Failed), cancellationToken);
        await outbox.Where(e => e.Uid == uid && e.Kind == kind && e.State == MailOutboxState.Pending)
            .ExecuteUpdateAsync(u => u
                .SetProperty(e => e.State, MailOutboxState.Abandoned)
                .SetProperty(e => e.Payload, (string?)null)
                .SetProperty(e => e.Finished, now)
                .SetProperty(e => e.ClaimedUntil, (DateTimeOffset?)null)
                .SetProperty(e => e.LastError, Replaced), cancellationToken);

        db.Add(new MailOutboxEntry
        {
            Kind = kind,
            Uid = uid,
            DeliveryAttemptId = mail.DeliveryAttemptId,
            Payload = MailOutboxPayload.Of(mail).ToJson(),
            State = MailOutboxState.Pending,
            Created = now,
            Expires = mail.Expires,
            NextAttempt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

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
public sealed class MailOutboxSignal
{
    private readonly Channel<bool> wakes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Wake() => wakes.Writer.TryWrite(true);

    /// <summary>Returns at the next wake or after <paramref name="poll"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan poll, CancellationToken cancellationToken)
    {
        // Why the system clock: the poll is a network cadence, not business time; a frozen test clock must not stop it.
        using var timeout = new CancellationTokenSource(poll, TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await wakes.Reader.ReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval passed without a wake.
        }
    }
}
