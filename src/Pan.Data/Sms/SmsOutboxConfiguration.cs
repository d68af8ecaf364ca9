using Pan.Data.Outbox;

namespace Pan.Data.Sms;

internal sealed class SmsOutboxConfiguration() : OutboxConfiguration<SmsOutboxEntry>("sms_outbox", 2048);
