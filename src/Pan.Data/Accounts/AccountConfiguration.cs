using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Accounts;

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> builder)
    {
        builder.ToTable("accounts");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(a => a.PhoneE164).HasColumnName("phone_e164").HasMaxLength(20);
        builder.Property(a => a.PhoneCountryCode).HasColumnName("phone_country_code");
        builder.Property(a => a.DefaultMemberUid).HasColumnName("default_member_uid");
        builder.Property(a => a.Created).HasColumnName("created");
        builder.Property(a => a.Modified).HasColumnName("modified");
        builder.Property(a => a.Deleted).HasColumnName("deleted");
        builder.Property(a => a.Version).HasColumnName("version").IsConcurrencyToken();

        // Why: the database, not the code, guarantees one live account per phone (50 parallel sign-ups make one).
        // Deleted accounts have a null phone, and NULLs never collide in a unique index.
        builder.HasIndex(a => a.PhoneE164).IsUnique().HasDatabaseName("ux_accounts_phone");

        builder.HasMany(a => a.Members).WithOne(m => m.Account).HasForeignKey(m => m.AccountId).OnDelete(DeleteBehavior.Restrict);
    }
}
