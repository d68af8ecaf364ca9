namespace Pan.Data.Sms;

/// <summary>What became of one SMS send attempt.</summary>
public enum SmsSendOutcome
{
    /// <summary>Reserved: counted against the caps while the gate checks them and the provider works.</summary>
    Pending = 0,

    /// <summary>The provider accepted the message.</summary>
    Sent = 1,

    /// <summary>The provider failed (after its retries); still counted, as the message may have gone out.</summary>
    Failed = 2,

    /// <summary>Refused by the allow-list, the SMS type check (a number that is no mobile) or a cap; no provider was called and it does not count against any cap.</summary>
    Blocked = 3,
}

/// <summary>
/// One row per SMS the gate was asked to send (the <c>sms_sends</c> log): the record of what went out, was blocked or
/// failed. The caps count <see cref="SmsCount"/> buckets, written in the same commit as a send's row.
/// </summary>
public sealed class SmsSend
{
    public long Id { get; set; }

    /// <summary>SHA-256 of the E.164 number: enough to tell a phone's sends apart without keeping the number in a log table.</summary>
    public byte[] PhoneHash { get; set; } = [];

    /// <summary>The country calling code of the phone (886).</summary>
    public int CountryCode { get; set; }

    /// <summary>The client address the caps count by: an IPv4 address or an IPv6 /64 prefix; null when unknown.</summary>
    public string? Ip { get; set; }

    /// <summary>Why the SMS was sent (Register, Login, Internal…).</summary>
    public string Purpose { get; set; } = string.Empty;

    public SmsSendOutcome Outcome { get; set; }

    /// <summary>For a blocked send: which rule blocked it (CountryNotAllowed, PhoneHourlyCap…).</summary>
    public string? BlockedReason { get; set; }

    public DateTimeOffset Created { get; set; }
}
