using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Imports;

internal sealed class ImportMapEntryConfiguration : IEntityTypeConfiguration<ImportMapEntry>
{
    public void Configure(EntityTypeBuilder<ImportMapEntry> builder)
    {
        builder.ToTable("import_map");
        // Why: the key is (source, legacy id), so a re-run (or two runs at once) can never import one legacy member twice.
        builder.HasKey(e => new { e.Source, e.LegacyId });
        builder.Property(e => e.Source).HasColumnName("source").HasMaxLength(16);
        builder.Property(e => e.LegacyId).HasColumnName("legacy_id").HasMaxLength(64);
        builder.Property(e => e.Uid).HasColumnName("uid");
        builder.Property(e => e.Imported).HasColumnName("imported");
        builder.HasIndex(e => e.Uid).IsUnique().HasDatabaseName("ux_import_map_uid");
    }
}
