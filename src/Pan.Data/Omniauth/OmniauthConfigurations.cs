using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Pan.Data.Tokens;

namespace Pan.Data.Omniauth;

internal sealed class SocialIdentityConfiguration : IEntityTypeConfiguration<SocialIdentity>
{
    public void Configure(EntityTypeBuilder<SocialIdentity> builder)
    {
        builder.ToTable("social_identities");
        builder.HasKey(i => i.Id);
        builder.Property(i => i.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(i => i.Provider).HasColumnName("provider").HasMaxLength(32);
        builder.Property(i => i.ProviderUserId).HasColumnName("provider_user_id").HasMaxLength(128);
        builder.Property(i => i.Uid).HasColumnName("uid");
        builder.Property(i => i.Created).HasColumnName("created");
        builder.Property(i => i.LastUsed).HasColumnName("last_used");

        // Why: one provider account signs in one member, and a member has one account per provider, even when two
        // nodes bind at once; the database decides.
        builder.HasIndex(i => new { i.Provider, i.ProviderUserId }).IsUnique().HasDatabaseName("ux_social_identities_provider_user");
        builder.HasIndex(i => new { i.Uid, i.Provider }).IsUnique().HasDatabaseName("ux_social_identities_uid_provider");
    }
}

internal sealed class OmniauthRefreshTokenConfiguration : IEntityTypeConfiguration<OmniauthRefreshToken>
{
    public void Configure(EntityTypeBuilder<OmniauthRefreshToken> builder)
    {
        builder.ToTable("omniauth_refresh_tokens");
        builder.HasKey(t => t.Hash);
        builder.Property(t => t.Hash).HasColumnName("hash").HasMaxLength(32);
        builder.Property(t => t.SessionId).HasColumnName("session_id");
        builder.Property(t => t.Uid).HasColumnName("uid");
        builder.Property(t => t.AppId).HasColumnName("app_id").HasMaxLength(32);
        builder.Property(t => t.TokenGeneration).HasColumnName("token_generation");
        builder.Property(t => t.Created).HasColumnName("created");
        builder.Property(t => t.Expires).HasColumnName("expires");
        builder.Property(t => t.UsedAt).HasColumnName("used_at");
        builder.Property(t => t.Provider).HasColumnName("provider").HasMaxLength(32);

        // Why: the family lives and dies with its auth session (logout, deletion, expiry purge).
        builder.HasOne<AuthSession>().WithMany().HasForeignKey(t => t.SessionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(t => t.SessionId).HasDatabaseName("ix_omniauth_refresh_tokens_session_id");
        // Why: a member's deletion erases its tokens by uid in the deletion's transaction, and the table keeps every
        // token of a family (spent ones too) until its session expires, up to Pan:Omniauth:RefreshTokenDays after the
        // last refresh; without this each deletion read the whole table. The cost is one more index entry per token
        // issued (a social sign-in or a refresh), gone with the session's rows.
        builder.HasIndex(t => t.Uid).HasDatabaseName("ix_omniauth_refresh_tokens_uid");
    }
}

internal sealed class RateCounterConfiguration : IEntityTypeConfiguration<RateCounter>
{
    public void Configure(EntityTypeBuilder<RateCounter> builder)
    {
        builder.ToTable("rate_counters");
        builder.HasKey(c => new { c.Scope, c.WindowStart });
        builder.Property(c => c.Scope).HasColumnName("scope").HasMaxLength(128);
        builder.Property(c => c.WindowStart).HasColumnName("window_start");
        builder.Property(c => c.Count).HasColumnName("count");
        builder.HasIndex(c => c.WindowStart).HasDatabaseName("ix_rate_counters_window_start");
    }
}
