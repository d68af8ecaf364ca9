using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Admins;

internal sealed class AdminUserConfiguration : IEntityTypeConfiguration<AdminUser>
{
    public void Configure(EntityTypeBuilder<AdminUser> builder)
    {
        builder.ToTable("admins");
        builder.HasKey(a => a.Email);
        builder.Property(a => a.Email).HasColumnName("email").HasMaxLength(254);
        builder.Property(a => a.Roles).HasColumnName("roles").HasMaxLength(200);
        builder.Property(a => a.Created).HasColumnName("created");
    }
}

internal sealed class AdminSessionConfiguration : IEntityTypeConfiguration<AdminSession>
{
    public void Configure(EntityTypeBuilder<AdminSession> builder)
    {
        builder.ToTable("admin_sessions");
        builder.HasKey(s => s.Hash);
        builder.Property(s => s.Hash).HasColumnName("hash").HasMaxLength(32);
        builder.Property(s => s.Email).HasColumnName("email").HasMaxLength(254);
        builder.Property(s => s.Created).HasColumnName("created");
        builder.Property(s => s.Expires).HasColumnName("expires");
        builder.HasIndex(s => s.Email).HasDatabaseName("ix_admin_sessions_email");
        builder.HasIndex(s => s.Expires).HasDatabaseName("ix_admin_sessions_expires");
    }
}
