using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Avatars;

namespace Pan.Server.Avatars;

/// <summary>
/// Avatars in the database (table <c>avatar_files</c>), the default store: nodes keep no state of their own, so an
/// avatar uploaded through one node is served by every other. The PNGs are small (100 and 280 px).
/// </summary>
public sealed class DatabaseAvatarStore(IServiceScopeFactory scopes, TimeProvider clock) : IAvatarStore
{
    public async Task SaveAsync(string key, int size, ReadOnlyMemory<byte> png, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var bytes = png.ToArray();
        // Why: a key names one upload's picture, so a second save of the same key and size writes the same bytes.
        var updated = await db.Set<AvatarFile>().Where(f => f.Key == key && f.Size == size)
            .ExecuteUpdateAsync(u => u.SetProperty(f => f.Png, bytes), cancellationToken);
        if (updated == 0)
        {
            var now = clock.GetUtcNow();
            db.Add(new AvatarFile { Key = key, Size = size, Png = bytes, Created = now, PendingSince = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (Data.DbErrors.IsUniqueViolation(ex))
            {
                // Saved by a concurrent request with the same content.
            }
        }
    }

    /// <summary>The keys of the rows pending since before <paramref name="before"/>, oldest first (one per stored size).</summary>
    public static IQueryable<string> PendingQuery(PanDbContext db, DateTimeOffset before) =>
        db.Set<AvatarFile>().AsNoTracking().Where(f => f.PendingSince < before).OrderBy(f => f.PendingSince).Select(f => f.Key);

    public async Task<Stream?> OpenReadAsync(string key, int size, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var png = await db.Set<AvatarFile>().AsNoTracking().Where(f => f.Key == key && f.Size == size).Select(f => f.Png).FirstOrDefaultAsync(cancellationToken);
        return png is null ? null : new MemoryStream(png, writable: false);
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        await db.Set<AvatarFile>().Where(f => f.Key == key).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task<bool> ClaimAsync(string key, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        return await db.Set<AvatarFile>().Where(f => f.Key == key && f.PendingSince != null)
            .ExecuteUpdateAsync(u => u.SetProperty(f => f.PendingSince, (DateTimeOffset?)null), cancellationToken) > 0;
    }

    public async Task ReleaseAsync(PanDbContext db, string key, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await db.Set<AvatarFile>().Where(f => f.Key == key && f.PendingSince == null)
            .ExecuteUpdateAsync(u => u.SetProperty(f => f.PendingSince, (DateTimeOffset?)now), cancellationToken);
    }

    /// <summary>Why one statement on the pending rows only: a claim of the same rows either comes first (nothing is deleted) or finds none.</summary>
    public async Task<bool> DeletePendingAsync(string key, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        return await db.Set<AvatarFile>().Where(f => f.Key == key && f.PendingSince != null).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<string>> PendingAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        // Why rows in pending order, made distinct here: ordered like its index, the query reads only the pending rows
        // it returns (SQLite read the whole table in key order for a DISTINCT ... ORDER BY key).
        var keys = await PendingQuery(db, before).Take(limit * AvatarKeys.Sizes.Count).ToListAsync(cancellationToken);
        return keys.Distinct().Take(limit).ToList();
    }
}
