using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.AppEvents;
using Pan.Data.Outbox;
using Pan.Server.Keys;
using Pan.Server.Outbox;

namespace Pan.Server.AppEvents;

/// <summary>What the operator sees of an app's subscription (never its secret); <c>PreviousUntil</c>: until when the secret a rotation replaced signs too.</summary>
public sealed record AppEventListing(string AppId, string Url, DateTimeOffset Modified, int Queued, DateTimeOffset? PreviousUntil);

/// <summary>A rotation's new secret (shown once) and until when the secret it replaced keeps signing (null: it stopped at once).</summary>
public sealed record RotatedSecret(string Secret, DateTimeOffset? PreviousUntil);

/// <summary>
/// The operator's side of the apps' event subscriptions (the <c>apps events</c> CLI command). A secret is returned
/// exactly once, when it is made, and stored wrapped (<see cref="KeyEncryption"/>). Every method runs in the caller's
/// transaction (the command's, with its audit line).
/// </summary>
public sealed class AppEventSubscriptions(
    PanDbContext db, KeyEncryption keys, TimeProvider clock, Microsoft.Extensions.Options.IOptions<AppEventsOptions> options, ILogger<AppEventSubscriptions> logger)
{
    public async Task<AppEventListing?> FindAsync(string appId, CancellationToken cancellationToken)
    {
        var row = await db.Set<AppEventSubscription>().AsNoTracking().SingleOrDefaultAsync(s => s.AppId == appId, cancellationToken);
        if (row is null)
        {
            return null;
        }

        var queued = await db.Set<AppEventOutboxEntry>().CountAsync(e => e.AppId == appId && e.State == OutboxState.Pending, cancellationToken);
        var previousUntil = row.PreviousSecret is not null && row.PreviousSecretUntil > clock.GetUtcNow() ? row.PreviousSecretUntil : null;
        return new AppEventListing(row.AppId, row.Url, row.Modified, queued, previousUntil);
    }

    /// <summary>
    /// Subscribes the app to <paramref name="url"/> with a new secret (returned), or, when it is subscribed already,
    /// changes only its URL (null: the secret stays; queued events go to the new URL).
    /// </summary>
    public async Task<string?> SetUrlAsync(string appId, string url, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var row = await db.Set<AppEventSubscription>().SingleOrDefaultAsync(s => s.AppId == appId, cancellationToken);
        if (row is not null)
        {
            row.Url = url;
            row.Modified = now;
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Changed the event URL of app {AppId}", appId);
            return null;
        }

        row = new AppEventSubscription { AppId = appId, Url = url, SecretVersion = 1, Created = now, Modified = now };
        var secret = NewSecret(row);
        db.Add(row);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Subscribed app {AppId} to events", appId);
        return secret;
    }

    /// <summary>
    /// A new secret for a subscribed app (returned); null when it is not subscribed. The secret it replaces keeps
    /// signing alongside it for <c>Pan:AppEvents:RotationOverlapHours</c>, still wrapped as it was; any older one is
    /// dropped (two secrets sign at most).
    /// </summary>
    public async Task<RotatedSecret?> RotateSecretAsync(string appId, CancellationToken cancellationToken)
    {
        var row = await db.Set<AppEventSubscription>().SingleOrDefaultAsync(s => s.AppId == appId, cancellationToken);
        if (row is null)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var overlap = options.Value.RotationOverlapHours;
        // Why the wrapped bytes are kept as they are: their context names the version they were made as, which is
        // the new version - 1 (KeyContexts.ForPrevious), so they cannot be moved into another row or version.
        row.PreviousSecret = overlap > 0 ? row.Secret : null;
        row.PreviousSecretUntil = overlap > 0 ? now.AddHours(overlap) : null;
        row.SecretVersion++;
        row.Modified = now;
        var secret = NewSecret(row);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Rotated the event signing secret of app {AppId}; the previous one signs too until {Until}", appId, row.PreviousSecretUntil);
        return new RotatedSecret(secret, row.PreviousSecretUntil);
    }

    /// <summary>Ends the app's subscription and gives up its queued events; returns how many were given up.</summary>
    public async Task<int> TurnOffAsync(string appId, CancellationToken cancellationToken)
    {
        var queued = await db.Set<AppEventOutboxEntry>().CountAsync(e => e.AppId == appId && e.State == OutboxState.Pending, cancellationToken);
        await OutboxQueue.AbandonAsync<AppEventOutboxEntry>(db, e => e.AppId == appId, clock.GetUtcNow(), AppEventSender.SubscriptionRemoved, cancellationToken);
        if (await db.Set<AppEventSubscription>().Where(s => s.AppId == appId).ExecuteDeleteAsync(cancellationToken) > 0)
        {
            logger.LogInformation("Turned off the events of app {AppId}; gave up {Queued} queued event(s)", appId, queued);
        }

        return queued;
    }

    private string NewSecret(AppEventSubscription row)
    {
        var material = AppEventSecrets.Create();
        row.Secret = keys.Protect(material, KeyContexts.For(row));
        return AppEventSecrets.Text(material);
    }
}
