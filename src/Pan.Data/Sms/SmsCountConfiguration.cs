using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Sms;

internal sealed class SmsCountConfiguration : IEntityTypeConfiguration<SmsCount>
{
    public void Configure(EntityTypeBuilder<SmsCount> builder)
    {
        builder.ToTable("sms_counts");

        // Why this key: a cap sums one key's buckets of one span from a start bucket on, a range of this primary key.
        builder.HasKey(c => new { c.Key, c.Span, c.Bucket });
        builder.Property(c => c.Key).HasColumnName("counter").HasMaxLength(80);
        builder.Property(c => c.Span).HasColumnName("span");
        builder.Property(c => c.Bucket).HasColumnName("bucket");
        builder.Property(c => c.Sends).HasColumnName("sends");
    }
}
