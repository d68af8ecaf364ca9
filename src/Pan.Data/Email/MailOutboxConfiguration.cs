using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Email;

internal sealed class MailOutboxConfiguration : IEntityTypeConfiguration<MailOutboxEntry>
{
    public void Configure(EntityTypeBuilder<MailOutboxEntry> builder)
    {
        builder.ToTable("mail_outbox");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(e => e.Kind).HasColumnName("kind").HasMaxLength(32).IsRequired();
        builder.Property(e => e.Uid).HasColumnName("uid");
        builder.Property(e => e.DeliveryAttemptId).HasColumnName("delivery_attempt_id");
        builder.Property(e => e.Payload).HasColumnName("payload").HasMaxLength(8192);
        builder.Property(e => e.State).HasColumnName("state");
        builder.Property(e => e.Attempts).HasColumnName("attempts");
        builder.Property(e => e.Created).HasColumnName("created");
        builder.Property(e => e.Expires).HasColumnName("expires");
        builder.Property(e => e.NextAttempt).HasColumnName("next_attempt");
        builder.Property(e => e.ClaimedUntil).HasColumnName("claimed_until");
        builder.Property(e => e.Finished).HasColumnName("finished");
        builder.Property(e => e.LastError).HasColumnName("last_error").HasMaxLength(256);

        // Why: the senders ask "pending rows due now"; a new mail of a kind replaces the member's pending one.
        builder.HasIndex(e => new { e.State, e.NextAttempt }).HasDatabaseName("ix_mail_outbox_state_next_attempt");
        builder.HasIndex(e => new { e.Uid, e.Kind }).HasDatabaseName("ix_mail_outbox_uid_kind");
        builder.HasIndex(e => e.Expires).HasDatabaseName("ix_mail_outbox_expires");
    }
}
