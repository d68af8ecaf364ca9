using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Pages;

/// <summary>
/// One ASP.NET Core Data Protection key (XML), shared by every node through the database, so an antiforgery token
/// issued by one node's hosted page is accepted when the form is posted to another.
/// </summary>
public sealed class DataProtectionKey
{
    public long Id { get; set; }

    public string? FriendlyName { get; set; }

    public string Xml { get; set; } = string.Empty;
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> builder)
    {
        builder.ToTable("data_protection_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(k => k.FriendlyName).HasColumnName("friendly_name").HasMaxLength(256);
        builder.Property(k => k.Xml).HasColumnName("xml").IsRequired();
    }
}
