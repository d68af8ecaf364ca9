using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.AppEvents;
using Pan.Data.OAuth;
using Pan.Data.Pages;
using Pan.Data.Tokens;

namespace Pan.Server.Keys;

/// <summary>
/// Runs after the database migration and before anything loads keys: checks that every stored key can be read with
/// the configured keys (a wrapped row without its key stops start-up) and, when <c>Pan:Keys:EncryptionKey</c> is set,
/// wraps plain rows and re-wraps rows made with a previous key, all in one transaction. A row already wrapped with
/// <c>Pan:Keys:NextEncryptionKey</c> is never re-wrapped back: this node is behind a rotation and adopts that key.
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
        var signing = await db.Set<SigningKey>().AsNoTracking().OrderBy(k => k.Kid).ToListAsync(cancellationToken);
        var oauth = await db.Set<OAuthKey>().AsNoTracking().OrderBy(k => k.Id).ToListAsync(cancellationToken);
        var dataProtection = await db.Set<DataProtectionKey>().AsNoTracking().OrderBy(k => k.Id).ToListAsync(cancellationToken);
        var appEvents = await db.Set<AppEventSubscription>().AsNoTracking().OrderBy(s => s.AppId).ToListAsync(cancellationToken);

        // Why every row is read before any is rewritten: reading one wrapped with Pan:Keys:NextEncryptionKey changes
        // the key rows are wrapped with (KeyEncryption.Unprotect), and no row may be re-wrapped with the old one first.
        signing.ForEach(row => keys.Unprotect(row.Secret, KeyContexts.For(row), KeyContexts.Describe(row)));
        oauth.ForEach(row => keys.Unprotect(row.Material, KeyContexts.For(row), KeyContexts.Describe(row)));
        dataProtection.ForEach(row => DataProtectionKeyXml.Check(row.Xml, keys));
        appEvents.ForEach(row => keys.Unprotect(row.Secret, KeyContexts.For(row), KeyContexts.Describe(row)));
        appEvents.Where(r => r.PreviousSecret is not null).ToList()
            .ForEach(row => keys.Unprotect(row.PreviousSecret!, KeyContexts.ForPrevious(row), KeyContexts.DescribePrevious(row)));
        if (keys.NextKeyInUse)
        {
            logger.LogWarning(
                "Stored keys are encrypted with {NextSetting} (key id {KeyId}): another node has made it current. This node encrypts with it too; make it {Setting} here as well.",
                KeyEncryptionOptions.NextKeySetting, keys.CurrentKeyId, KeyEncryptionOptions.EncryptionKeySetting);
        }

        var rewrapped = 0;
        foreach (var row in signing.Where(r => keys.NeedsRewrap(r.Secret)))
        {
            var wrapped = keys.Rewrap(row.Secret, KeyContexts.For(row), KeyContexts.Describe(row));
            rewrapped += await db.Set<SigningKey>()
                .Where(k => k.Kid == row.Kid && k.Secret == row.Secret)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.Secret, wrapped), cancellationToken);
        }

        foreach (var row in oauth.Where(r => keys.NeedsRewrap(r.Material)))
        {
            var wrapped = keys.Rewrap(row.Material, KeyContexts.For(row), KeyContexts.Describe(row));
            rewrapped += await db.Set<OAuthKey>()
                .Where(k => k.Id == row.Id && k.Material == row.Material)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.Material, wrapped), cancellationToken);
        }

        foreach (var row in appEvents.Where(r => keys.NeedsRewrap(r.Secret)))
        {
            var wrapped = keys.Rewrap(row.Secret, KeyContexts.For(row), KeyContexts.Describe(row));
            rewrapped += await db.Set<AppEventSubscription>()
                .Where(s => s.AppId == row.AppId && s.SecretVersion == row.SecretVersion && s.Secret == row.Secret)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Secret, wrapped), cancellationToken);
        }

        foreach (var row in appEvents.Where(r => r.PreviousSecret is { } previous && keys.NeedsRewrap(previous)))
        {
            var wrapped = keys.Rewrap(row.PreviousSecret!, KeyContexts.ForPrevious(row), KeyContexts.DescribePrevious(row));
            var previous = row.PreviousSecret;
            rewrapped += await db.Set<AppEventSubscription>()
                .Where(s => s.AppId == row.AppId && s.SecretVersion == row.SecretVersion && s.PreviousSecret == previous)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.PreviousSecret, wrapped), cancellationToken);
        }

        foreach (var row in dataProtection)
        {
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
            logger.LogInformation("Encrypted {Count} stored key(s) with the key id {KeyId} from {Setting}", rewrapped, keys.CurrentKeyId, keys.CurrentKeySetting);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
