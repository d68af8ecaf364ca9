using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.Tokens;

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> builder)
    {
        builder.ToTable("signing_keys");
        builder.HasKey(k => k.Kid);
        builder.Property(k => k.Kid).HasColumnName("kid").HasMaxLength(32);
        builder.Property(k => k.Generation).HasColumnName("generation");
        builder.Property(k => k.Secret).HasColumnName("secret").IsRequired();
        builder.Property(k => k.Created).HasColumnName("created");
        builder.Property(k => k.Activates).HasColumnName("activates");
        builder.Property(k => k.Retires).HasColumnName("retires");

        // Why: two nodes rotating at once both insert generation N+1; the database lets exactly one through.
        builder.HasIndex(k => k.Generation).IsUnique().HasDatabaseName("ux_signing_keys_generation");
    }
}

internal sealed class AuthSessionConfiguration : IEntityTypeConfiguration<AuthSession>
{
    public void Configure(EntityTypeBuilder<AuthSession> builder)
    {
        builder.ToTable("auth_sessions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(s => s.AccountId).HasColumnName("account_id");
        builder.Property(s => s.Uid).HasColumnName("uid");
        builder.Property(s => s.AuthMethod).HasColumnName("auth_method").HasMaxLength(32);
        builder.Property(s => s.Created).HasColumnName("created");
        builder.Property(s => s.Expires).HasColumnName("expires");
        builder.Property(s => s.Revoked).HasColumnName("revoked");
        builder.Property(s => s.ClientIp).HasColumnName("client_ip").HasMaxLength(AuthSession.MaxClientIpLength);
        builder.Property(s => s.UserAgent).HasColumnName("user_agent").HasMaxLength(AuthSession.MaxUserAgentLength);
        // Why no index: EndSession looks a public id up among the sessions the caller may see, which it reads by
        // account (ix_auth_sessions_account_id) anyway; nothing looks a session up by it across accounts.
        builder.Property(s => s.PublicId).HasColumnName("public_id").IsRequired();

        // Why: revoking by member or by account must not scan the table.
        builder.HasIndex(s => s.AccountId).HasDatabaseName("ix_auth_sessions_account_id");
        builder.HasIndex(s => s.Uid).HasDatabaseName("ix_auth_sessions_uid");
        builder.HasIndex(s => s.Expires).HasDatabaseName("ix_auth_sessions_expires");

        // Why: the token janitor clears the device facts of ended sessions that still hold them (nodes from before ending
        // cleared them left such rows) in batches by id; every path that ends a session now clears them in the same
        // statement, so the index holds only those leftovers and is empty once they are cleared.
        builder.HasIndex(s => s.Id)
            .HasFilter("\"revoked\" IS NOT NULL AND (\"client_ip\" IS NOT NULL OR \"user_agent\" IS NOT NULL)")
            .HasDatabaseName("ix_auth_sessions_ended_with_device");
    }
}

internal sealed class StoredAccessTokenConfiguration : IEntityTypeConfiguration<StoredAccessToken>
{
    public void Configure(EntityTypeBuilder<StoredAccessToken> builder)
    {
        builder.ToTable("access_tokens");
        builder.HasKey(t => t.Hash);
        builder.Property(t => t.Hash).HasColumnName("hash").HasMaxLength(32);
        builder.Property(t => t.SessionId).HasColumnName("session_id");
        builder.Property(t => t.Uid).HasColumnName("uid");
        builder.Property(t => t.AppId).HasColumnName("app_id").HasMaxLength(32);
        builder.Property(t => t.TokenGeneration).HasColumnName("token_generation");
        builder.Property(t => t.Created).HasColumnName("created");
        builder.Property(t => t.Expires).HasColumnName("expires");

        // Why: expired sessions are purged with their access tokens.
        builder.HasOne(t => t.Session).WithMany().HasForeignKey(t => t.SessionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(t => t.SessionId).HasDatabaseName("ix_access_tokens_session_id");
        builder.HasIndex(t => t.Expires).HasDatabaseName("ix_access_tokens_expires");
    }
}

internal sealed class StoredVerifyTokenConfiguration : IEntityTypeConfiguration<StoredVerifyToken>
{
    public void Configure(EntityTypeBuilder<StoredVerifyToken> builder)
    {
        builder.ToTable("verify_tokens");
        builder.HasKey(t => t.Hash);
        builder.Property(t => t.Hash).HasColumnName("hash").HasMaxLength(32);
        builder.Property(t => t.Uid).HasColumnName("uid");
        builder.Property(t => t.Purpose).HasColumnName("purpose").HasMaxLength(32);
        builder.Property(t => t.Created).HasColumnName("created");
        builder.Property(t => t.Expires).HasColumnName("expires");
        builder.Property(t => t.UsedAt).HasColumnName("used_at");
        builder.HasIndex(t => t.Expires).HasDatabaseName("ix_verify_tokens_expires");
    }
}
