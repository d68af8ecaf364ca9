using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.AddressBooks;

internal sealed class AddressBookConfiguration : IEntityTypeConfiguration<AddressBook>
{
    public void Configure(EntityTypeBuilder<AddressBook> builder)
    {
        builder.ToTable("address_books");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(a => a.Uid).HasColumnName("uid");
        builder.Property(a => a.FullName).HasColumnName("full_name").HasMaxLength(AddressBook.FullNameLength);
        builder.Property(a => a.ZipCode).HasColumnName("zip_code").HasMaxLength(AddressBook.ZipCodeLength);
        builder.Property(a => a.Address).HasColumnName("address").HasMaxLength(AddressBook.AddressLength);
        builder.Property(a => a.Phone).HasColumnName("phone").HasMaxLength(AddressBook.PhoneLength);
        builder.Property(a => a.Platform).HasColumnName("platform").HasMaxLength(AddressBook.PlatformLength);
        builder.Property(a => a.DefaultBuyer).HasColumnName("default_buyer");
        builder.Property(a => a.Type).HasColumnName("type");
        builder.Property(a => a.Created).HasColumnName("created");
        builder.Property(a => a.Modified).HasColumnName("modified");

        builder.HasOne<Members.Member>().WithMany().HasForeignKey(a => a.Uid).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(a => a.Uid, "ix_address_books_uid");
        // Why: named indexes, since two of them cover the same column. "At most one main-live and one main-shipping entry per member" and "one default buyer per member" are
        // kept by the database. The filters are plain SQL that SQLite and PostgreSQL read alike.
        builder.HasIndex(a => new { a.Uid, a.Type }, "ux_address_books_uid_type").IsUnique().HasFilter("\"type\" > 0");
        builder.HasIndex(a => a.Uid, "ux_address_books_default_buyer").IsUnique().HasFilter("\"default_buyer\"");
    }
}
