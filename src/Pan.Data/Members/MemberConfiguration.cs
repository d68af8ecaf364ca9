using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Members;

internal sealed class MemberConfiguration : IEntityTypeConfiguration<Member>
{
    public void Configure(EntityTypeBuilder<Member> builder)
    {
        builder.ToTable("members");
        builder.HasKey(m => m.Uid);
        builder.Property(m => m.Uid).HasColumnName("uid").ValueGeneratedOnAdd();
        builder.Property(m => m.ObjectId).HasColumnName("object_id");
        builder.Property(m => m.HashUid).HasColumnName("hash_uid").HasMaxLength(64);
        builder.Property(m => m.AccountId).HasColumnName("account_id");
        builder.Property(m => m.DisplayName).HasColumnName("display_name").HasMaxLength(64);
        builder.Property(m => m.DisplayNameKey).HasColumnName("display_name_key").HasMaxLength(128);
        builder.Property(m => m.Username).HasColumnName("username").HasMaxLength(128);
        builder.Property(m => m.Email).HasColumnName("email").HasMaxLength(254);
        builder.Property(m => m.EmailKey).HasColumnName("email_key").HasMaxLength(254);
        builder.Property(m => m.EmailVerified).HasColumnName("email_verified");
        builder.Property(m => m.Gender).HasColumnName("gender");
        builder.Property(m => m.AvatarKey).HasColumnName("avatar_key").HasMaxLength(200);
        builder.Property(m => m.VipExpireDate).HasColumnName("vip_expire_date");
        builder.Property(m => m.ActivateIp).HasColumnName("activate_ip").HasMaxLength(64);
        builder.Property(m => m.ActivateDate).HasColumnName("activate_date");
        builder.Property(m => m.IsOwner).HasColumnName("is_owner");
        builder.Property(m => m.MigrationStatus).HasColumnName("migration_status");
        builder.Property(m => m.Locale).HasColumnName("locale").HasMaxLength(16);
        builder.Property(m => m.Created).HasColumnName("created");
        builder.Property(m => m.Modified).HasColumnName("modified");
        builder.Property(m => m.Deleted).HasColumnName("deleted");
        builder.Property(m => m.SuspendedUntil).HasColumnName("suspended_until");
        builder.Property(m => m.TokenGeneration).HasColumnName("token_generation");
        builder.Property(m => m.Version).HasColumnName("version").IsConcurrencyToken();

        // Why: uniqueness lives in the database so that concurrent requests on any node cannot break it.
        // Freed values (deleted members) are NULL and never collide.
        builder.HasIndex(m => m.ObjectId).IsUnique().HasDatabaseName("ux_members_object_id");
        builder.HasIndex(m => m.HashUid).IsUnique().HasDatabaseName("ux_members_hash_uid");
        builder.HasIndex(m => m.DisplayNameKey).IsUnique().HasDatabaseName("ux_members_display_name_key");
        // Why filtered: an unverified address reserves nothing, or anyone could block an address's owner by adding it
        // to their own profile unverified (email squatting). Only verified addresses are unique; a second verification
        // of an address fails on this index. Deleted members keep no key (the deletion frees it), as before.
        // "email_verified" alone is a valid predicate on both providers (SQLite stores 0/1, PostgreSQL a boolean), and
        // every look-up of an address's owner says "and verified", so both planners use this partial index for it.
        builder.HasIndex(m => m.EmailKey).IsUnique().HasFilter("\"email_verified\"").HasDatabaseName("ux_members_email_key");
        builder.HasIndex(m => m.Username).IsUnique().HasDatabaseName("ux_members_username");
        builder.HasIndex(m => m.AccountId).HasDatabaseName("ix_members_account_id");
        // Why: the avatar janitor asks whether any member references a stored avatar's key, one key at a time, and
        // must not read the whole table for it. Filtered: most members have no avatar, and an equality on the column
        // implies the predicate, so both planners use it.
        builder.HasIndex(m => m.AvatarKey).HasFilter("\"avatar_key\" IS NOT NULL").HasDatabaseName("ix_members_avatar_key");
    }
}
