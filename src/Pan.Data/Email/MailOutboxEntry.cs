namespace Pan.Data.Email;

/// <summary>Where a queued mail stands.</summary>
public enum MailOutboxState
{
    /// <summary>Waiting to be sent (or being sent by the node that holds the lease).</summary>
    Pending = 0,

    /// <summary>The relay accepted it; the payload is gone.</summary>
    Sent = 1,

    /// <summary>Given up (its code expired, or a newer mail of the same kind replaced it); the payload is gone.</summary>
    Abandoned = 2,
}

/// <summary>
/// One mail waiting to leave (the <c>mail_outbox</c> table), written in the transaction that made its code, and sent by
/// whichever node claims it first. <see cref="Payload"/> carries what the mail needs — the recipient, the code and the
/// link token in clear — because the relay must receive them; it is set to null the moment the row is sent or abandoned.
/// The rest of the row is a delivery log without secrets.
/// </summary>
public sealed class MailOutboxEntry
{
    public long Id { get; set; }

    /// <summary>The mail's kind (the name of the server's EmailKind, e.g. "ResetPassword").</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>The member the mail is for.</summary>
    public long Uid { get; set; }

    /// <summary>The <c>delivery_attempts</c> row the request reserved; the outcome is recorded there when the row ends.</summary>
    public long? DeliveryAttemptId { get; set; }

    /// <summary>JSON: recipient, display name, locale, code, link, the client's page, minutes. Secret; null once finished.</summary>
    public string? Payload { get; set; }

    public MailOutboxState State { get; set; }

    /// <summary>Claims so far; each claim adds one, and a sender finishes the row only while it still holds its own claim.</summary>
    public int Attempts { get; set; }

    public DateTimeOffset Created { get; set; }

    /// <summary>After this the mail is useless (its code has expired) and is abandoned unsent.</summary>
    public DateTimeOffset Expires { get; set; }

    /// <summary>Not to be tried before this (backoff after a failed attempt).</summary>
    public DateTimeOffset NextAttempt { get; set; }

    /// <summary>While in the future, a node is sending the row and no other claims it.</summary>
    public DateTimeOffset? ClaimedUntil { get; set; }

    /// <summary>When the row was sent or abandoned.</summary>
    public DateTimeOffset? Finished { get; set; }

    /// <summary>Why the last attempt failed or the row was abandoned (never an address, a code or a link).</summary>
    public string? LastError { get; set; }
}
