using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Pan.Data.Apps;
using Pan.Data.Outbox;

namespace Pan.Data.AppEvents;

internal sealed class AppEventSubscriptionConfiguration : IEntityTypeConfiguration<AppEventSubscription>
{
    public void Configure(EntityTypeBuilder<AppEventSubscription> builder)
    {
        builder.ToTable("app_event_subscriptions");
        builder.HasKey(s => s.AppId);
        builder.Property(s => s.AppId).HasColumnName("app_id").HasMaxLength(32);
        builder.Property(s => s.Url).HasColumnName("url").HasMaxLength(AppEventSubscription.UrlLength).IsRequired();
        builder.Property(s => s.Secret).HasColumnName("secret").HasMaxLength(256).IsRequired();
        builder.Property(s => s.SecretVersion).HasColumnName("secret_version");
        builder.Property(s => s.PreviousSecret).HasColumnName("previous_secret").HasMaxLength(256);
        builder.Property(s => s.PreviousSecretUntil).HasColumnName("previous_secret_until");
        builder.Property(s => s.Created).HasColumnName("created");
        builder.Property(s => s.Modified).HasColumnName("modified");
        builder.HasOne<StoredApp>().WithMany().HasForeignKey(s => s.AppId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AppEventOutboxConfiguration() : OutboxConfiguration<AppEventOutboxEntry>("app_event_outbox", 1024)
{
    // Why no foreign key to apps: the row is a delivery log that outlives a subscription's removal.
    protected override void ConfigureChannel(EntityTypeBuilder<AppEventOutboxEntry> builder)
    {
        builder.Property(e => e.AppId).HasColumnName("app_id").HasMaxLength(32).IsRequired();
        builder.Property(e => e.EventId).HasColumnName("event_id");
        builder.HasIndex(e => e.EventId).IsUnique().HasDatabaseName("ix_app_event_outbox_event_id");
        // Why: turning an app's events off gives up its pending rows.
        builder.HasIndex(e => new { e.AppId, e.State }).HasDatabaseName("ix_app_event_outbox_app_id_state");
    }
}
