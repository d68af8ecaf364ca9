using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Apps;

internal sealed class StoredAppConfiguration : IEntityTypeConfiguration<StoredApp>
{
    public void Configure(EntityTypeBuilder<StoredApp> builder)
    {
        builder.ToTable("apps");
        builder.HasKey(a => a.AppId);
        builder.Property(a => a.AppId).HasColumnName("app_id").HasMaxLength(32);
        builder.Property(a => a.Name).HasColumnName("name").HasMaxLength(100);
        builder.Property(a => a.SecretHash).HasColumnName("secret_hash").HasMaxLength(32);
        builder.Property(a => a.AuthHosts).HasColumnName("auth_hosts").HasMaxLength(StoredApp.AuthHostsLength);
        builder.Property(a => a.Created).HasColumnName("created");
        builder.Property(a => a.SecretRotated).HasColumnName("secret_rotated");
    }
}
