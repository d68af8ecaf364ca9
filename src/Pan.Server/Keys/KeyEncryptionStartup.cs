using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Data.Pages;
using Pan.Data.Tokens;

namespace Pan.Server.Keys;

/// <summary>
/// Runs after the database migration and before anything loads keys: checks that every stored key can be read with
/// the configured keys (a wrapped row without its key stops start-up) and, when <c>Pan:Keys:EncryptionKey</c> is set,
/// wraps plain rows and re-wraps rows made with a previous key, all in one transaction.
/// </summary>
/// <remarks>
/// Two nodes starting at once on one database: each update only applies while the row still holds the value this
/// node read, so the second node's updates match nothing (PostgreSQL re-checks the condition after the first commits;
/// SQLite transactions take the write lock at BEGIN, so the second node reads the already wrapped rows).
/// </remarks>
public sealed class KeyEncryptionStartup(IServiceScopeFactory scopes, KeyEncryption keys, ILogger<KeyEncryptionStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!keys.Enabled)
        {
            logger.LogWarning(
                "{Setting} is not set: signing and encryption keys are stored unencrypted in the database. {HowTo}",
                KeyEncryptionOptions.EncryptionKeySetting, KeyEncryptionOptionsValidator.HowToMakeOne);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var rewrapped = 0;

        foreach (var row in await db.Set<SigningKey>().AsNoTracking().OrderBy(k => k.Kid).ToListAsync(cancellationToken))
        {
            var context = KeyContexts.For(row);
            var what = KeyContexts.Describe(row);
            if (!keys.NeedsRewrap(row.Secret))
            {
                keys.Unprotect(row.Secret, context, what);
                continue;
            }

            var wrapped = keys.Rewrap(row.Secret, context, what);
            rewrapped += await db.Set<SigningKey>()
                .Where(k => k.Kid == row.Kid && k.Secret == row.Secret)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.Secret, wrapped), cancellationToken);
        }

        foreach (var row in await db.Set<OAuthKey>().AsNoTracking().OrderBy(k => k.Id).ToListAsync(cancellationToken))
        {
            var context = KeyContexts.For(row);
            var what = KeyContexts.Describe(row);
            if (!keys.NeedsRewrap(row.Material))
            {
                keys.Unprotect(row.Material, context, what);
                continue;
            }

            var wrapped = keys.Rewrap(row.Material, context, what);
            rewrapped += await db.Set<OAuthKey>()
                .Where(k => k.Id == row.Id && k.Material == row.Material)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.Material, wrapped), cancellationToken);
        }

        foreach (var row in await db.Set<DataProtectionKey>().AsNoTracking().OrderBy(k => k.Id).ToListAsync(cancellationToken))
        {
            DataProtectionKeyXml.Check(row.Xml, keys);
            if (keys.Enabled && DataProtectionKeyXml.Rewrap(row.Xml, keys) is { } xml)
            {
                rewrapped += await db.Set<DataProtectionKey>()
                    .Where(k => k.Id == row.Id && k.Xml == row.Xml)
                    .ExecuteUpdateAsync(s => s.SetProperty(k => k.Xml, xml), cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        if (rewrapped > 0)
        {
            logger.LogInformation("Encrypted {Count} stored key(s) with the key id {KeyId} from {Setting}", rewrapped, keys.CurrentKeyId, KeyEncryptionOptions.EncryptionKeySetting);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
