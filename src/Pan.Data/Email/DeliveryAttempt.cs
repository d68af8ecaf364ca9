namespace Pan.Data.Email;

/// <summary>What became of one delivery attempt.</summary>
public enum DeliveryOutcome
{
    /// <summary>Reserved: counted against the caps while they are checked and the mail goes out.</summary>
    Pending = 0,

    /// <summary>The mail server (or SMS gate) accepted the message.</summary>
    Sent = 1,

    /// <summary>Delivery failed after its retries; still counted (the message may have gone out).</summary>
    Failed = 2,

    /// <summary>Refused by a cap or the cool-down; nothing was sent and it counts against nothing.</summary>
    Blocked = 3,

    /// <summary>A recovery request that matched no member: nothing was sent, but it counts like a send, so matched and unmatched requests meet the same limits.</summary>
    Skipped = 4,

    /// <summary>Withdrawn before anything was sent (e.g. the email turned out to be taken); counts against nothing.</summary>
    Cancelled = 5,

    /// <summary>Handed to the mail outbox; counts like a send. The sender records Sent or Failed when the outbox row ends.</summary>
    Queued = 6,
}

/// <summary>
/// One row per email Pan was asked to send, and per password-recovery request by email or phone (the
/// <c>delivery_attempts</c> log). The cool-down and the hourly caps count these rows, so every node sees the same numbers.
/// </summary>
public sealed class DeliveryAttempt
{
    public long Id { get; set; }

    /// <summary>verify-email, reset, reset-phone, login-code, notice … (see DeliveryPurposes).</summary>
    public string Purpose { get; set; } = string.Empty;

    /// <summary>The member the message is for; null for a recovery request that matched nobody.</summary>
    public long? Uid { get; set; }

    /// <summary>SHA-256 of the lower-cased email address or the E.164 phone (counted per target without keeping it).</summary>
    public byte[] TargetHash { get; set; } = [];

    /// <summary>The client address (IPv4, or an IPv6 /64 prefix); null when unknown or not counted.</summary>
    public string? Ip { get; set; }

    public DeliveryOutcome Outcome { get; set; }

    public DateTimeOffset Created { get; set; }
}
