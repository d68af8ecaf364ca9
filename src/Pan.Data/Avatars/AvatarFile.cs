using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Avatars;

/// <summary>One stored size of an avatar PNG (the database avatar store: every node serves every avatar).</summary>
public sealed class AvatarFile
{
    public string Key { get; set; } = string.Empty;

    public int Size { get; set; }

    public byte[] Png { get; set; } = [];

    public DateTimeOffset Created { get; set; }
}

internal sealed class AvatarFileConfiguration : IEntityTypeConfiguration<AvatarFile>
{
    public void Configure(EntityTypeBuilder<AvatarFile> builder)
    {
        builder.ToTable("avatar_files");
        builder.HasKey(f => new { f.Key, f.Size });
        builder.Property(f => f.Key).HasColumnName("key").HasMaxLength(64);
        builder.Property(f => f.Size).HasColumnName("size");
        builder.Property(f => f.Png).HasColumnName("png");
        builder.Property(f => f.Created).HasColumnName("created");
    }
}
