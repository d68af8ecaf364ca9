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
        builder.Property(e => e.Actor).HasColumnName("actor").HasMaxLength(254);
        builder.Property(e => e.Action).HasColumnName("action").HasMaxLength(64);
        builder.Property(e => e.Target).HasColumnName("target").HasMaxLength(300);
        builder.Property(e => e.Outcome).HasColumnName("outcome").HasMaxLength(300);
        builder.HasIndex(e => e.At).HasDatabaseName("ix_audit_log_at");
        builder.HasIndex(e => e.Target).HasDatabaseName("ix_audit_log_target");
    }
}
