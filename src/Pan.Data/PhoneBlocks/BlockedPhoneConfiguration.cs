using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.PhoneBlocks;

internal sealed class BlockedPhoneConfiguration : IEntityTypeConfiguration<BlockedPhone>
{
    public void Configure(EntityTypeBuilder<BlockedPhone> builder)
    {
        builder.ToTable("blocked_phones");

        // Why the number is the key: a check is one primary-key probe, folded into statements the SMS gate already runs.
        builder.HasKey(b => b.PhoneE164);
        builder.Property(b => b.PhoneE164).HasColumnName("phone_e164").HasMaxLength(20);
        builder.Property(b => b.Reason).HasColumnName("reason").HasMaxLength(BlockedPhone.ReasonMaxLength);
        builder.Property(b => b.BlockedBy).HasColumnName("blocked_by").HasMaxLength(320);
        builder.Property(b => b.Created).HasColumnName("created");
        builder.Property(b => b.Expires).HasColumnName("expires");
    }
}
