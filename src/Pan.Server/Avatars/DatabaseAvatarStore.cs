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
            db.Add(new AvatarFile { Key = key, Size = size, Png = bytes, Created = clock.GetUtcNow() });
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
}
