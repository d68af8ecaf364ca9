using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Pan.Data.Members;

namespace Pan.Data.Passkeys;

internal sealed class MemberPasskeyConfiguration : IEntityTypeConfiguration<MemberPasskey>
{
    public void Configure(EntityTypeBuilder<MemberPasskey> builder)
    {
        builder.ToTable("member_passkeys");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.Id).HasColumnName("id");
        builder.Property(p => p.Uid).HasColumnName("uid");
        // Why 1023: the longest credential id WebAuthn allows.
        builder.Property(p => p.CredentialId).HasColumnName("credential_id").HasMaxLength(1023);
        builder.Property(p => p.PublicKey).HasColumnName("public_key").HasMaxLength(2048);
        builder.Property(p => p.SignCount).HasColumnName("sign_count");
        builder.Property(p => p.Aaguid).HasColumnName("aaguid");
        builder.Property(p => p.Name).HasColumnName("name").HasMaxLength(64);
        builder.Property(p => p.Created).HasColumnName("created");
        builder.Property(p => p.LastUsed).HasColumnName("last_used");
        builder.HasIndex(p => p.CredentialId).IsUnique().HasDatabaseName("ux_member_passkeys_credential_id");
        builder.HasIndex(p => p.Uid).HasDatabaseName("ix_member_passkeys_uid");
        builder.HasOne<Member>().WithMany().HasForeignKey(p => p.Uid).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PasskeyUserConfiguration : IEntityTypeConfiguration<PasskeyUser>
{
    public void Configure(EntityTypeBuilder<PasskeyUser> builder)
    {
        builder.ToTable("passkey_users");
        builder.HasKey(u => u.Uid);
        builder.Property(u => u.Uid).HasColumnName("uid").ValueGeneratedNever();
        builder.Property(u => u.UserHandle).HasColumnName("user_handle").HasMaxLength(64);
        builder.HasIndex(u => u.UserHandle).IsUnique().HasDatabaseName("ux_passkey_users_user_handle");
        builder.HasOne<Member>().WithOne().HasForeignKey<PasskeyUser>(u => u.Uid).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PasskeyChallengeConfiguration : IEntityTypeConfiguration<PasskeyChallenge>
{
    public void Configure(EntityTypeBuilder<PasskeyChallenge> builder)
    {
        builder.ToTable("passkey_challenges");
        builder.HasKey(c => c.Hash);
        builder.Property(c => c.Hash).HasColumnName("hash").HasMaxLength(32);
        builder.Property(c => c.Kind).HasColumnName("kind").HasMaxLength(16);
        builder.Property(c => c.Uid).HasColumnName("uid");
        builder.Property(c => c.OptionsJson).HasColumnName("options_json").HasMaxLength(65536);
        builder.Property(c => c.Expires).HasColumnName("expires");
        builder.HasIndex(c => c.Expires).HasDatabaseName("ix_passkey_challenges_expires");
    }
}
