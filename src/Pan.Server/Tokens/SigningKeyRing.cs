using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Pan.Data;
using Pan.Data.Tokens;
using Pan.Server.Keys;

namespace Pan.Server.Tokens;

/// <summary>One signing key as held in memory.</summary>
public sealed record SigningKeyMaterial(string Kid, long Generation, SymmetricSecurityKey Key, DateTimeOffset Created, DateTimeOffset Activates, DateTimeOffset? Retires)
{
    /// <summary>True while tokens signed with this key may still be accepted.</summary>
    public bool Verifies(DateTimeOffset now) => Retires is null || Retires > now;
}

/// <summary>
/// The HS512 keys that sign auth tokens, shared by every node through the <c>signing_keys</c> table and cached here.
/// The key with the highest generation that is active signs; when it is older than <c>Pan:Tokens:KeyRotationDays</c>
/// the next generation is created and the old one keeps verifying until every token it signed has expired.
/// The cache is reloaded every few minutes and whenever a token names a kid it has not seen (another node rotated).
/// Two nodes that create a key at once race on the unique generation; the loser reloads and uses the winner's key.
/// The secrets are stored wrapped with <c>Pan:Keys:EncryptionKey</c> when it is set (<see cref="KeyEncryption"/>).
/// </summary>
public sealed class SigningKeyRing(
    IServiceScopeFactory scopes, IOptions<TokenOptions> options, KeyEncryption encryption, TimeProvider clock, ILogger<SigningKeyRing> logger) : IDisposable
{
    /// <summary>How long a node may go without re-reading the keys (it also re-reads on an unknown kid).</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);

    private const int SecretBytes = 64;
    private const int MaxKidLength = 32;

    private readonly SemaphoreSlim gate = new(1, 1);
    private Snapshot snapshot = Snapshot.Empty;

    /// <summary>The key to sign with now, creating or rotating it when needed.</summary>
    public async ValueTask<SigningKeyMaterial> GetSigningKeyAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (Volatile.Read(ref snapshot) is var fresh && !fresh.IsStale(now) && fresh.Current(now) is { } key && !IsDue(key, now))
        {
            return key;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            now = clock.GetUtcNow();
            // Why: requests queued behind the one that just loaded or created the key need no second look at the database.
            if (Volatile.Read(ref snapshot) is var loaded && !loaded.IsStale(now) && loaded.Current(now) is { } ready && !IsDue(ready, now))
            {
                return ready;
            }

            var current = (await ReloadAsync(cancellationToken)).Current(now);
            if (current is null || IsDue(current, now))
            {
                // Why: the next generation is the one after what this node just saw; if another node created it in
                // the meantime the insert collides and the reload below picks that key up instead of rotating twice.
                await CreateNextAsync(Volatile.Read(ref snapshot).MaxGeneration + 1, now, cancellationToken);
                current = (await ReloadAsync(cancellationToken)).Current(now)
                    ?? throw new InvalidOperationException("No active signing key after creating one.");
            }

            return current;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The key named by a token's kid, or null when there is none or it has retired.</summary>
    public async ValueTask<SigningKeyMaterial?> FindAsync(string? kid, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(kid) || kid.Length > MaxKidLength)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var cached = Volatile.Read(ref snapshot);
        if (cached.IsStale(now))
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                cached = Volatile.Read(ref snapshot).IsStale(now) ? await ReloadAsync(cancellationToken) : Volatile.Read(ref snapshot);
            }
            finally
            {
                gate.Release();
            }
        }

        if (cached.ByKid.TryGetValue(kid, out var key))
        {
            return key.Verifies(now) ? key : null;
        }

        // Why: a kid we have not seen is most likely a key another node just created. Look up that one row (by primary
        // key, outside the gate, so forged kids cost one indexed query and never hold up real tokens).
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var row = await db.Set<SigningKey>().AsNoTracking().SingleOrDefaultAsync(k => k.Kid == kid, cancellationToken);
        if (row is null)
        {
            return null;
        }

        var found = ToMaterial(row);
        Merge(found);
        return found.Verifies(now) ? found : null;
    }

    public void Dispose() => gate.Dispose();

    private bool IsDue(SigningKeyMaterial key, DateTimeOffset now) => now - key.Created >= options.Value.KeyRotation;

    private async Task<Snapshot> ReloadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var now = clock.GetUtcNow();
        var rows = await db.Set<SigningKey>().AsNoTracking()
            .Where(k => k.Retires == null || k.Retires > now)
            .ToListAsync(cancellationToken);
        var next = new Snapshot(rows.Select(ToMaterial).ToFrozenDictionary(k => k.Kid, StringComparer.Ordinal), now);
        Volatile.Write(ref snapshot, next);
        return next;
    }

    /// <summary>Inserts the next generation's key and retires the older ones; a lost race is not an error.</summary>
    private async Task CreateNextAsync(long generation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var secret = new byte[SecretBytes];
        RandomNumberGenerator.Fill(secret);
        var key = new SigningKey
        {
            Kid = OpaqueTokens.RandomId(12),
            Generation = generation,
            Created = now,
            Activates = now,
        };
        key.Secret = encryption.Protect(secret, KeyContexts.For(key));

        // Why: nodes that have not re-read the keys yet may still sign with the old key for one refresh interval,
        // so it keeps verifying for an auth token's lifetime plus that margin.
        var retires = now + options.Value.AuthTokenLifetime + (2 * RefreshInterval);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            db.Add(key);
            await db.SaveChangesAsync(cancellationToken);
            await db.Set<SigningKey>()
                .Where(k => k.Generation < generation && k.Retires == null)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.Retires, retires), cancellationToken);
            await db.Set<SigningKey>().Where(k => k.Retires != null && k.Retires < now).ExecuteDeleteAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Created auth-token signing key generation {Generation} ({Kid})", generation, key.Kid);
        }
        catch (DbUpdateException ex) when (Data.DbErrors.IsUniqueViolation(ex))
        {
            await transaction.RollbackAsync(cancellationToken);
            logger.LogInformation("Another node created signing key generation {Generation} first; using it", generation);
        }
    }

    private void Merge(SigningKeyMaterial key)
    {
        var current = Volatile.Read(ref snapshot);
        var keys = current.ByKid.ToDictionary(StringComparer.Ordinal);
        keys[key.Kid] = key;
        // Why: a lost race only drops this addition from the cache; the next unknown-kid lookup adds it again.
        Interlocked.CompareExchange(ref snapshot, current with { ByKid = keys.ToFrozenDictionary(StringComparer.Ordinal) }, current);
    }

    private SigningKeyMaterial ToMaterial(SigningKey row)
    {
        var secret = encryption.Unprotect(row.Secret, KeyContexts.For(row), KeyContexts.Describe(row));
        return new(row.Kid, row.Generation, new SymmetricSecurityKey(secret) { KeyId = row.Kid }, row.Created, row.Activates, row.Retires);
    }

    private sealed record Snapshot(FrozenDictionary<string, SigningKeyMaterial> ByKid, DateTimeOffset? LoadedAt)
    {
        public static Snapshot Empty { get; } = new(FrozenDictionary<string, SigningKeyMaterial>.Empty, null);

        /// <summary>The newest generation loaded (the newest key never has Retires set, so it is always loaded).</summary>
        public long MaxGeneration => ByKid.Count == 0 ? 0 : ByKid.Values.Max(k => k.Generation);

        public bool IsStale(DateTimeOffset now) => LoadedAt is not { } at || now - at >= RefreshInterval || now < at;

        /// <summary>The newest key that is active and still verifies.</summary>
        public SigningKeyMaterial? Current(DateTimeOffset now) =>
            ByKid.Values.Where(k => k.Activates <= now && k.Verifies(now)).MaxBy(k => k.Generation);
    }
}
