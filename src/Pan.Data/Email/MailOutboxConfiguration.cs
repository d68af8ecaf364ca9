using Pan.Data.Outbox;

namespace Pan.Data.Email;

internal sealed class MailOutboxConfiguration() : OutboxConfiguration<MailOutboxEntry>("mail_outbox", 8192);
