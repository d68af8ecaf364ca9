using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.HandOff;

internal sealed class StoredLoginTokenConfiguration : IEntityTypeConfiguration<StoredLoginToken>
{
    public void Configure(EntityTypeBuilder<StoredLoginToken> builder)
    {
        builder.ToTable("login_tokens");
        builder.HasKey(t => t.Hash);
        builder.Property(t => t.Hash).HasColumnName("hash").HasMaxLength(32);
        builder.Property(t => t.AppId).HasColumnName("app_id").HasMaxLength(32);
        builder.Property(t => t.AuthUrl).HasColumnName("auth_url").HasMaxLength(StoredLoginToken.AuthUrlLength);
        builder.Property(t => t.Uid).HasColumnName("uid");
        builder.Property(t => t.SessionId).HasColumnName("session_id");
        builder.Property(t => t.TokenGeneration).HasColumnName("token_generation");
        builder.Property(t => t.Created).HasColumnName("created");
        builder.Property(t => t.Expires).HasColumnName("expires");
        builder.Property(t => t.UsedAt).HasColumnName("used_at");
        builder.HasIndex(t => t.Expires).HasDatabaseName("ix_login_tokens_expires");
    }
}
