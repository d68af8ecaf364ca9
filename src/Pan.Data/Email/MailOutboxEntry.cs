using Pan.Data.Outbox;

namespace Pan.Data.Email;

/// <summary>
/// One mail waiting to leave (the <c>mail_outbox</c> table). Its payload holds the recipient, display name, locale,
/// code, link and the client's page, in clear until the row is sent or abandoned.
/// </summary>
public sealed class MailOutboxEntry : OutboxEntry;
