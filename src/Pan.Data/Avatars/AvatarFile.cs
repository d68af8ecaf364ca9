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

    /// <summary>
    /// When the upload that stored the file began storing it, until the upload has switched its member to the key
    /// (then null). Files still pending long after are an upload's that never switched (its node was killed): the
    /// avatar janitor deletes them unless a member references the key after all.
    /// </summary>
    public DateTimeOffset? PendingSince { get; set; }
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
        builder.Property(f => f.PendingSince).HasColumnName("pending_since");

        // Why: the avatar janitor reads only the pending files past the grace period, never every stored avatar.
        builder.HasIndex(f => f.PendingSince).HasFilter("\"pending_since\" IS NOT NULL").HasDatabaseName("ix_avatar_files_pending_since");
    }
}
