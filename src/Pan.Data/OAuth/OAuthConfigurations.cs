using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OpenIddict.EntityFrameworkCore.Models;

namespace Pan.Data.OAuth;

internal sealed class OAuthKeyConfiguration : IEntityTypeConfiguration<OAuthKey>
{
    public void Configure(EntityTypeBuilder<OAuthKey> builder)
    {
        builder.ToTable("oauth_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).HasColumnName("id");
        builder.Property(k => k.Kind).HasColumnName("kind").HasMaxLength(8);
        builder.Property(k => k.Generation).HasColumnName("generation");
        builder.Property(k => k.KeyId).HasColumnName("key_id").HasMaxLength(32);
        builder.Property(k => k.Material).HasColumnName("material").IsRequired();
        builder.Property(k => k.Created).HasColumnName("created");
        builder.Property(k => k.Retired).HasColumnName("retired");

        // Why: two nodes starting at once both create generation 1; the database lets exactly one through.
        builder.HasIndex(k => new { k.Kind, k.Generation }).IsUnique().HasDatabaseName("ux_oauth_keys_kind_generation");
    }
}

internal sealed class PendingConsentConfiguration : IEntityTypeConfiguration<PendingConsent>
{
    public void Configure(EntityTypeBuilder<PendingConsent> builder)
    {
        builder.ToTable("oauth_pending_consents");
        builder.HasKey(p => p.IdHash);
        builder.Property(p => p.IdHash).HasColumnName("id_hash").HasMaxLength(64);
        builder.Property(p => p.MemberUid).HasColumnName("member_uid");
        builder.Property(p => p.ClientId).HasColumnName("client_id").HasMaxLength(100);
        builder.Property(p => p.Parameters).HasColumnName("parameters").HasMaxLength(8000);
        builder.Property(p => p.Scopes).HasColumnName("scopes").HasMaxLength(2000);
        builder.Property(p => p.Decision).HasColumnName("decision");
        builder.Property(p => p.GrantedScopes).HasColumnName("granted_scopes").HasMaxLength(2000);
        builder.Property(p => p.Remember).HasColumnName("remember");
        builder.Property(p => p.Created).HasColumnName("created");
        builder.Property(p => p.Expires).HasColumnName("expires");
        builder.Property(p => p.Used).HasColumnName("used");
        builder.HasIndex(p => p.Expires).HasDatabaseName("ix_oauth_pending_consents_expires");
    }
}

// Why: OpenIddict's own mappings (applied by UseOpenIddict in PanDbContext) name the tables OpenIddict*; Pan's tables are
// snake_case and grouped by feature, so the four stores are renamed here (columns keep OpenIddict's names).
internal sealed class OAuthApplicationTable : IEntityTypeConfiguration<OpenIddictEntityFrameworkCoreApplication>
{
    public void Configure(EntityTypeBuilder<OpenIddictEntityFrameworkCoreApplication> builder) => builder.ToTable("oauth_applications");
}

internal sealed class OAuthAuthorizationTable : IEntityTypeConfiguration<OpenIddictEntityFrameworkCoreAuthorization>
{
    public void Configure(EntityTypeBuilder<OpenIddictEntityFrameworkCoreAuthorization> builder)
    {
        builder.ToTable("oauth_authorizations");
        // Why: deleting a member finds their authorizations by subject alone; OpenIddict's own index leads with the app.
        builder.HasIndex(a => a.Subject).HasDatabaseName("ix_oauth_authorizations_subject");
    }
}

internal sealed class OAuthScopeTable : IEntityTypeConfiguration<OpenIddictEntityFrameworkCoreScope>
{
    public void Configure(EntityTypeBuilder<OpenIddictEntityFrameworkCoreScope> builder) => builder.ToTable("oauth_scopes");
}

internal sealed class OAuthTokenTable : IEntityTypeConfiguration<OpenIddictEntityFrameworkCoreToken>
{
    public void Configure(EntityTypeBuilder<OpenIddictEntityFrameworkCoreToken> builder)
    {
        builder.ToTable("oauth_tokens");
        // Why: a password change revokes, and a member deletion deletes, a member's tokens by subject and status across
        // every app; OpenIddict's own index leads with the app, so without this each of them would scan the table.
        builder.HasIndex(t => new { t.Subject, t.Status }).HasDatabaseName("ix_oauth_tokens_subject_status");
    }
}
