using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Email;

internal sealed class EmailCodeConfiguration : IEntityTypeConfiguration<EmailCode>
{
    public void Configure(EntityTypeBuilder<EmailCode> builder)
    {
        builder.ToTable("email_codes");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(c => c.Uid).HasColumnName("uid");
        builder.Property(c => c.Purpose).HasColumnName("purpose").HasMaxLength(32).IsRequired();
        builder.Property(c => c.AddressKey).HasColumnName("address_key").HasMaxLength(254).IsRequired();
        builder.Property(c => c.CodeHash).HasColumnName("code_hash").HasMaxLength(32).IsRequired();
        builder.Property(c => c.LinkHash).HasColumnName("link_hash").HasMaxLength(32).IsRequired();
        builder.Property(c => c.Redirect).HasColumnName("redirect").HasMaxLength(2048);
        builder.Property(c => c.Created).HasColumnName("created");
        builder.Property(c => c.Expires).HasColumnName("expires");
        builder.Property(c => c.UsedAt).HasColumnName("used_at");

        // Why: a code or link alone finds its challenge; the unique indexes make a collision impossible rather than unlikely.
        builder.HasIndex(c => c.CodeHash).IsUnique().HasDatabaseName("ux_email_codes_code_hash");
        builder.HasIndex(c => c.LinkHash).IsUnique().HasDatabaseName("ux_email_codes_link_hash");
        builder.HasIndex(c => new { c.Uid, c.Purpose }).HasDatabaseName("ix_email_codes_uid_purpose");
        builder.HasIndex(c => c.Expires).HasDatabaseName("ix_email_codes_expires");
    }
}

internal sealed class DeliveryAttemptConfiguration : IEntityTypeConfiguration<DeliveryAttempt>
{
    public void Configure(EntityTypeBuilder<DeliveryAttempt> builder)
    {
        builder.ToTable("delivery_attempts");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(a => a.Purpose).HasColumnName("purpose").HasMaxLength(32).IsRequired();
        builder.Property(a => a.Uid).HasColumnName("uid");
        builder.Property(a => a.TargetHash).HasColumnName("target_hash").HasMaxLength(32).IsRequired();
        builder.Property(a => a.Ip).HasColumnName("ip").HasMaxLength(64);
        builder.Property(a => a.Outcome).HasColumnName("outcome");
        builder.Property(a => a.Created).HasColumnName("created");

        // Why: each cap is "rows for this key created after T that count"; (key, created) narrows it to one hour of rows.
        builder.HasIndex(a => new { a.TargetHash, a.Created }).HasDatabaseName("ix_delivery_attempts_target_created");
        builder.HasIndex(a => new { a.Uid, a.Created }).HasDatabaseName("ix_delivery_attempts_uid_created");
        builder.HasIndex(a => new { a.Ip, a.Created }).HasDatabaseName("ix_delivery_attempts_ip_created");
    }
}
