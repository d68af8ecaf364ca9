using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.AppEvents;
using Pan.Data.Outbox;
using Pan.Server.Keys;
using Pan.Server.Outbox;

namespace Pan.Server.AppEvents;

/// <summary>What the operator sees of an app's subscription (never its secret).</summary>
public sealed record AppEventListing(string AppId, string Url, DateTimeOffset Modified, int Queued);

/// <summary>
/// The operator's side of the apps' event subscriptions (the <c>apps events</c> CLI command). A secret is returned
/// exactly once, when it is made, and stored wrapped (<see cref="KeyEncryption"/>). Every method runs in the caller's
/// transaction (the command's, with its audit line).
/// </summary>
public sealed class AppEventSubscriptions(PanDbContext db, KeyEncryption keys, TimeProvider clock, ILogger<AppEventSubscriptions> logger)
{
    public async Task<AppEventListing?> FindAsync(string appId, CancellationToken cancellationToken)
    {
        var row = await db.Set<AppEventSubscription>().AsNoTracking().SingleOrDefaultAsync(s => s.AppId == appId, cancellationToken);
        if (row is null)
        {
            return null;
        }

        var queued = await db.Set<AppEventOutboxEntry>().CountAsync(e => e.AppId == appId && e.State == OutboxState.Pending, cancellationToken);
        return new AppEventListing(row.AppId, row.Url, row.Modified, queued);
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

    /// <summary>A new secret for a subscribed app (returned; the old one signs nothing from now on); null when it is not subscribed.</summary>
    public async Task<string?> RotateSecretAsync(string appId, CancellationToken cancellationToken)
    {
        var row = await db.Set<AppEventSubscription>().SingleOrDefaultAsync(s => s.AppId == appId, cancellationToken);
        if (row is null)
        {
            return null;
        }

        row.SecretVersion++;
        row.Modified = clock.GetUtcNow();
        var secret = NewSecret(row);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Rotated the event signing secret of app {AppId}", appId);
        return secret;
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
