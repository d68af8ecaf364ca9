using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Sms;

internal sealed class SmsSendConfiguration : IEntityTypeConfiguration<SmsSend>
{
    public void Configure(EntityTypeBuilder<SmsSend> builder)
    {
        builder.ToTable("sms_sends");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(s => s.PhoneHash).HasColumnName("phone_hash").HasMaxLength(32).IsRequired();
        builder.Property(s => s.CountryCode).HasColumnName("country_code");
        builder.Property(s => s.Ip).HasColumnName("ip").HasMaxLength(64);
        builder.Property(s => s.Purpose).HasColumnName("purpose").HasMaxLength(32).IsRequired();
        builder.Property(s => s.Outcome).HasColumnName("outcome");
        builder.Property(s => s.BlockedReason).HasColumnName("blocked_reason").HasMaxLength(32);
        builder.Property(s => s.Created).HasColumnName("created");

        // Why only this index: the caps count sms_counts, not this log; the janitor deletes the log by age.
        builder.HasIndex(s => s.Created).HasDatabaseName("ix_sms_sends_created");
    }
}
