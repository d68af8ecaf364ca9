using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Apps;
using Pan.General.Application;
using Pan.Server.Data;
using Pan.Server.Tokens;

namespace Pan.Server.Apps;

/// <summary>What the operator sees of an app (never its secret or hash).</summary>
public sealed record AppListing(string AppId, string Name, bool HasSecret, IReadOnlyList<string> AuthHosts, DateTimeOffset Created, DateTimeOffset? SecretRotated);

/// <summary>
/// The operator's side of the app registry (used by the <c>apps</c> CLI commands): the seeded rows, registration,
/// secret rotation. A secret is returned exactly once, when it is made; only its SHA-256 is stored.
/// </summary>
public sealed class AppAdministration(PanDbContext db, TimeProvider clock, ILogger<AppAdministration> logger)
{
    /// <summary>
    /// Makes sure every app of the contract (AppId.Value except None) has a row, without secret or hosts. Idempotent
    /// and safe when several nodes start at once (a row another node inserted first is simply kept).
    /// </summary>
    public async Task EnsureSeededAsync(CancellationToken cancellationToken)
    {
        var known = AppId.Descriptor.EnumTypes[0].Values.Where(v => v.Number != 0).Select(v => v.Name).ToList();
        var present = await db.Set<StoredApp>().AsNoTracking().Select(a => a.AppId).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        foreach (var id in known.Except(present, StringComparer.Ordinal))
        {
            db.Add(new StoredApp { AppId = id, Name = id, Created = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                logger.LogInformation("Seeded app {AppId}", id);
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
            {
                // Another node seeded it first.
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    public async Task<IReadOnlyList<AppListing>> ListAsync(CancellationToken cancellationToken)
    {
        var rows = await db.Set<StoredApp>().AsNoTracking().ToListAsync(cancellationToken);
        return [.. rows.OrderBy(r => r.AppId, StringComparer.Ordinal).Select(ToListing)];
    }

    public async Task<AppListing?> FindAsync(string appId, CancellationToken cancellationToken) =>
        await db.Set<StoredApp>().AsNoTracking().SingleOrDefaultAsync(a => a.AppId == appId, cancellationToken) is { } row ? ToListing(row) : null;

    /// <summary>
    /// Sets the name and hosts of a seeded app and makes its first secret (returned once); null when the app already
    /// has a secret. One conditional UPDATE decides, so of any number of concurrent registrations of one app exactly one
    /// gets a secret; a secret is replaced only by <see cref="RotateSecretAsync"/>.
    /// </summary>
    public async Task<string?> RegisterAsync(string appId, string name, string authHosts, CancellationToken cancellationToken)
    {
        var (secret, hash) = OpaqueTokens.Create();
        var now = clock.GetUtcNow();
        var registered = await db.Set<StoredApp>().Where(a => a.AppId == appId && a.SecretHash == null)
            .ExecuteUpdateAsync(u => u
                .SetProperty(a => a.Name, name)
                .SetProperty(a => a.AuthHosts, authHosts)
                .SetProperty(a => a.SecretHash, hash)
                .SetProperty(a => a.SecretRotated, (DateTimeOffset?)now), cancellationToken);
        if (registered != 1)
        {
            return null;
        }

        logger.LogInformation("Registered app {AppId}", appId);
        return secret;
    }

    /// <summary>Changes the name and/or hosts of an app (null leaves a value as it is).</summary>
    public async Task UpdateAsync(string appId, string? name, string? authHosts, CancellationToken cancellationToken)
    {
        var row = await db.Set<StoredApp>().SingleAsync(a => a.AppId == appId, cancellationToken);
        row.Name = name ?? row.Name;
        row.AuthHosts = authHosts ?? row.AuthHosts;
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Replaces the app's secret; the old one stops working at once. Returns the new secret (shown once).</summary>
    public async Task<string> RotateSecretAsync(string appId, CancellationToken cancellationToken)
    {
        var (secret, hash) = OpaqueTokens.Create();
        var now = clock.GetUtcNow();
        await db.Set<StoredApp>().Where(a => a.AppId == appId)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.SecretHash, hash).SetProperty(a => a.SecretRotated, (DateTimeOffset?)now), cancellationToken);
        logger.LogInformation("Rotated the secret of app {AppId}", appId);
        return secret;
    }

    private static AppListing ToListing(StoredApp row) =>
        new(row.AppId, row.Name, row.SecretHash is not null, AuthHosts.Split(row.AuthHosts), row.Created, row.SecretRotated);
}
