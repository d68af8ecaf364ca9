using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Passport;

internal sealed class MemberPassConfiguration : IEntityTypeConfiguration<MemberPass>
{
    public void Configure(EntityTypeBuilder<MemberPass> builder)
    {
        builder.ToTable("member_passes");
        builder.HasKey(p => new { p.Uid, p.Kind });
        builder.Property(p => p.Uid).HasColumnName("uid");
        builder.Property(p => p.Kind).HasColumnName("kind").HasMaxLength(MemberPass.KindLength);
        builder.Property(p => p.Hash).HasColumnName("hash").HasMaxLength(32);
        builder.Property(p => p.Created).HasColumnName("created");
        builder.Property(p => p.Expires).HasColumnName("expires");

        builder.HasOne<Members.Member>().WithMany().HasForeignKey(p => p.Uid).OnDelete(DeleteBehavior.Restrict);
        // Why: a scanner looks a passport token up by its hash alone.
        builder.HasIndex(p => p.Hash).IsUnique().HasDatabaseName("ux_member_passes_hash");
        // Why: the hourly janitor deletes expired passes.
        builder.HasIndex(p => p.Expires).HasDatabaseName("ix_member_passes_expires");
    }
}
