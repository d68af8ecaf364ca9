using Pan.Data.Outbox;

namespace Pan.Data.Sms;

/// <summary>
/// One text message waiting to leave (the <c>sms_outbox</c> table). Its payload holds the E.164 number, the text (with
/// the code), the SMS purpose and the requesting client's address (for the SMS gate's per-IP caps), in clear until the
/// row is sent, blocked or abandoned.
/// </summary>
public sealed class SmsOutboxEntry : OutboxEntry
{
    /// <summary>
    /// The <c>sms_sends</c> row of the message's first attempt, which passed the SMS gate and was counted against its
    /// caps; later attempts (after a provider failure) reuse it and are not counted again. Null until that attempt.
    /// </summary>
    public long? SmsSendId { get; set; }
}
