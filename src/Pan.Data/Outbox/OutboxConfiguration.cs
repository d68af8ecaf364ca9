using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Outbox;

/// <summary>The mapping every outbox table shares: the same columns and indexes, under the table's own name.</summary>
internal abstract class OutboxConfiguration<TEntry>(string table, int payloadLength) : IEntityTypeConfiguration<TEntry>
    where TEntry : OutboxEntry
{
    public void Configure(EntityTypeBuilder<TEntry> builder)
    {
        builder.ToTable(table);
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(e => e.Kind).HasColumnName("kind").HasMaxLength(32).IsRequired();
        builder.Property(e => e.Uid).HasColumnName("uid");
        builder.Property(e => e.DeliveryAttemptId).HasColumnName("delivery_attempt_id");
        builder.Property(e => e.Payload).HasColumnName("payload").HasMaxLength(payloadLength);
        builder.Property(e => e.State).HasColumnName("state");
        builder.Property(e => e.Attempts).HasColumnName("attempts");
        builder.Property(e => e.Created).HasColumnName("created");
        builder.Property(e => e.Expires).HasColumnName("expires");
        builder.Property(e => e.NextAttempt).HasColumnName("next_attempt");
        builder.Property(e => e.ClaimedUntil).HasColumnName("claimed_until");
        builder.Property(e => e.Finished).HasColumnName("finished");
        builder.Property(e => e.LastError).HasColumnName("last_error").HasMaxLength(256);

        // Why: the senders ask "pending rows due now"; a new message of a kind replaces the member's pending one.
        builder.HasIndex(e => new { e.State, e.NextAttempt }).HasDatabaseName($"ix_{table}_state_next_attempt");
        builder.HasIndex(e => new { e.Uid, e.Kind }).HasDatabaseName($"ix_{table}_uid_kind");
        builder.HasIndex(e => e.Expires).HasDatabaseName($"ix_{table}_expires");
        ConfigureChannel(builder);
    }

    /// <summary>Maps the columns one channel adds to the shared ones (none by default).</summary>
    protected virtual void ConfigureChannel(EntityTypeBuilder<TEntry> builder)
    {
    }
}
