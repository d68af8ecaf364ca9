using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Audit;

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("audit_log");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(e => e.At).HasColumnName("at");
        builder.Property(e => e.Actor).HasColumnName("actor").HasMaxLength(AuditEntry.ActorLength);
        builder.Property(e => e.Action).HasColumnName("action").HasMaxLength(AuditEntry.ActionLength);
        builder.Property(e => e.Target).HasColumnName("target").HasMaxLength(AuditEntry.TargetLength);
        builder.Property(e => e.Outcome).HasColumnName("outcome").HasMaxLength(AuditEntry.OutcomeLength);
        builder.HasIndex(e => e.At).HasDatabaseName("ix_audit_log_at");
        builder.HasIndex(e => e.Target).HasDatabaseName("ix_audit_log_target");
    }
}
