using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Pan.Data.Outbox;

namespace Pan.Data.Sms;

internal sealed class SmsOutboxConfiguration() : OutboxConfiguration<SmsOutboxEntry>("sms_outbox", 2048)
{
    // Why no foreign key: sms_sends is a log the SMS janitor prunes on its own schedule; the id is only looked up.
    protected override void ConfigureChannel(EntityTypeBuilder<SmsOutboxEntry> builder) =>
        builder.Property(e => e.SmsSendId).HasColumnName("sms_send_id");
}
