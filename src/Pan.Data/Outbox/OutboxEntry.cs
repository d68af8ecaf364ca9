namespace Pan.Data.Outbox;

/// <summary>Where a queued message (mail or SMS) stands.</summary>
public enum OutboxState
{
    /// <summary>Waiting to be sent (or being sent by the node that holds the lease).</summary>
    Pending = 0,

    /// <summary>The relay or SMS provider accepted it; the payload is gone.</summary>
    Sent = 1,

    /// <summary>Given up (its code expired, a newer message of the same kind replaced it, or its member was deleted; an app event: its delivery window ended or the app's events were turned off); the payload is gone.</summary>
    Abandoned = 2,

    /// <summary>Refused unsent by the channel's own abuse rules (the SMS gate's caps, country list or SMS type check); the payload is gone.</summary>
    Blocked = 3,
}

/// <summary>
/// One message waiting to leave, written in the transaction that made its code, and sent by whichever node claims it
/// first. <see cref="Payload"/> carries what the message needs — the recipient and the code in clear — because the
/// relay or provider must receive them; it is set to null the moment the row is sent, blocked or abandoned. The rest of
/// the row is a delivery log without secrets. Each channel maps its own table (<c>mail_outbox</c>, <c>sms_outbox</c>);
/// this base type is not an entity of its own.
/// </summary>
public abstract class OutboxEntry
{
    public long Id { get; set; }

    /// <summary>The message's kind (e.g. "ResetPassword"); a new message of a kind replaces the member's pending one.</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>The member the message is for.</summary>
    public long Uid { get; set; }

    /// <summary>The <c>delivery_attempts</c> row the request reserved; the outcome is recorded there when the row ends.</summary>
    public long? DeliveryAttemptId { get; set; }

    /// <summary>JSON: the recipient, the code and whatever else the channel needs. Secret; null once finished.</summary>
    public string? Payload { get; set; }

    public OutboxState State { get; set; }

    /// <summary>Claims so far; each claim adds one, and a sender finishes the row only while it still holds its own claim.</summary>
    public int Attempts { get; set; }

    public DateTimeOffset Created { get; set; }

    /// <summary>After this the message is useless (its code has expired) and is abandoned unsent.</summary>
    public DateTimeOffset Expires { get; set; }

    /// <summary>Not to be tried before this (backoff after a failed attempt).</summary>
    public DateTimeOffset NextAttempt { get; set; }

    /// <summary>While in the future, a node is sending the row and no other claims it.</summary>
    public DateTimeOffset? ClaimedUntil { get; set; }

    /// <summary>When the row was sent, blocked or abandoned.</summary>
    public DateTimeOffset? Finished { get; set; }

    /// <summary>Why the last attempt failed or the row was blocked or abandoned (never an address, a number or a code).</summary>
    public string? LastError { get; set; }
}
