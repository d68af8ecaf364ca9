using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Pan.Data.Members;

namespace Pan.Data.Guests;

internal sealed class GuestAccountConfiguration : IEntityTypeConfiguration<GuestAccount>
{
    public void Configure(EntityTypeBuilder<GuestAccount> builder)
    {
        builder.ToTable("guest_accounts");
        builder.HasKey(g => g.Uid);
        builder.Property(g => g.Uid).HasColumnName("uid").ValueGeneratedNever();
        builder.Property(g => g.AppId).HasColumnName("app_id").HasMaxLength(32);
        builder.Property(g => g.Temporary).HasColumnName("temporary");
        builder.Property(g => g.NameType).HasColumnName("name_type").HasMaxLength(8);
        builder.Property(g => g.AccountName).HasColumnName("account_name").HasMaxLength(254);
        builder.Property(g => g.AccountKey).HasColumnName("account_key").HasMaxLength(260);
        builder.Property(g => g.MobileE164).HasColumnName("mobile_e164").HasMaxLength(20);
        builder.Property(g => g.MobileVerified).HasColumnName("mobile_verified");
        builder.Property(g => g.ContactEmail).HasColumnName("contact_email").HasMaxLength(254);
        builder.Property(g => g.FirstName).HasColumnName("first_name").HasMaxLength(100);
        builder.Property(g => g.LastName).HasColumnName("last_name").HasMaxLength(100);
        builder.Property(g => g.Address).HasColumnName("address").HasMaxLength(500);
        builder.Property(g => g.Aux).HasColumnName("aux").HasMaxLength(8192);
        builder.Property(g => g.ActScheme).HasColumnName("act_scheme");
        builder.Property(g => g.PendingPasswordHash).HasColumnName("pending_password_hash").HasMaxLength(256);
        builder.Property(g => g.Activated).HasColumnName("activated");
        builder.Property(g => g.Created).HasColumnName("created");
        builder.Property(g => g.CreatedIp).HasColumnName("created_ip").HasMaxLength(64);
        builder.Property(g => g.Converted).HasColumnName("converted");

        // Why: the database guarantees one live account per account name, also under concurrent conversions.
        builder.HasIndex(g => g.AccountKey).IsUnique().HasDatabaseName("ux_guest_accounts_account_key");
        builder.HasIndex(g => g.MobileE164).HasDatabaseName("ix_guest_accounts_mobile");
        builder.HasIndex(g => new { g.CreatedIp, g.Created }).HasDatabaseName("ix_guest_accounts_created_ip");
        builder.HasOne<Member>().WithOne().HasForeignKey<GuestAccount>(g => g.Uid).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class GuestTokenConfiguration : IEntityTypeConfiguration<GuestToken>
{
    public void Configure(EntityTypeBuilder<GuestToken> builder)
    {
        builder.ToTable("guest_tokens");
        builder.HasKey(t => t.Hash);
        builder.Property(t => t.Hash).HasColumnName("hash").HasMaxLength(32);
        builder.Property(t => t.Uid).HasColumnName("uid");
        builder.Property(t => t.AppId).HasColumnName("app_id").HasMaxLength(32);
        builder.Property(t => t.Kind).HasColumnName("kind").HasMaxLength(8);
        builder.Property(t => t.TokenGeneration).HasColumnName("token_generation");
        builder.Property(t => t.Created).HasColumnName("created");
        builder.Property(t => t.Expires).HasColumnName("expires");
        builder.Property(t => t.Revoked).HasColumnName("revoked");
        builder.HasIndex(t => t.Uid).HasDatabaseName("ix_guest_tokens_uid");
        builder.HasIndex(t => t.Expires).HasDatabaseName("ix_guest_tokens_expires");
    }
}

internal sealed class GuestActivationConfiguration : IEntityTypeConfiguration<GuestActivation>
{
    public void Configure(EntityTypeBuilder<GuestActivation> builder)
    {
        builder.ToTable("guest_activations");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(a => a.ActId).HasColumnName("act_id").HasMaxLength(32);
        builder.Property(a => a.Uid).HasColumnName("uid");
        builder.Property(a => a.Scheme).HasColumnName("scheme");
        builder.Property(a => a.Target).HasColumnName("target").HasMaxLength(254);
        builder.Property(a => a.SecretHash).HasColumnName("secret_hash").HasMaxLength(32);
        builder.Property(a => a.Attempts).HasColumnName("attempts");
        builder.Property(a => a.Created).HasColumnName("created");
        builder.Property(a => a.Expires).HasColumnName("expires");
        builder.Property(a => a.UsedAt).HasColumnName("used_at");
        builder.HasIndex(a => a.ActId).IsUnique().HasDatabaseName("ux_guest_activations_act_id");
        builder.HasIndex(a => a.SecretHash).IsUnique().HasDatabaseName("ux_guest_activations_secret_hash");
        builder.HasIndex(a => new { a.Target, a.Scheme }).HasDatabaseName("ix_guest_activations_target");
        builder.HasIndex(a => a.Uid).HasDatabaseName("ix_guest_activations_uid");
    }
}

internal sealed class GuestAppSettingsConfiguration : IEntityTypeConfiguration<GuestAppSettings>
{
    public void Configure(EntityTypeBuilder<GuestAppSettings> builder)
    {
        builder.ToTable("guest_app_settings");
        builder.HasKey(s => s.AppId);
        builder.Property(s => s.AppId).HasColumnName("app_id").HasMaxLength(32);
        builder.Property(s => s.AccountNameType).HasColumnName("account_name_type").HasMaxLength(8);
        builder.Property(s => s.Activation).HasColumnName("activation").HasMaxLength(8);
        builder.Property(s => s.Locale).HasColumnName("locale").HasMaxLength(16);
        builder.Property(s => s.Modified).HasColumnName("modified");
    }
}
