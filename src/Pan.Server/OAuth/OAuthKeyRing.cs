using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Server.Data;
using Pan.Server.Keys;

namespace Pan.Server.OAuth;

/// <summary>
/// The provider's keys, shared by every node through the <c>oauth_keys</c> table: an RSA key signs ID tokens and
/// access tokens (published at the JWKS endpoint) and an AES-256 key encrypts authorization codes and refresh tokens.
/// The first node to start makes generation 1 of each; two nodes starting at once race on the unique (kind,
/// generation) and the loser uses the winner's keys. <c>clients rotate-keys</c> adds the next generation, which signs
/// and encrypts from each node's next start, while the previous generation keeps verifying and decrypting. A node not
/// restarted yet that meets a token naming a key it did not load reads the live keys again
/// (<see cref="KeysNotLoadedAsync"/>, <see cref="KeyCatchUp"/>), so a flow begun on a restarted node ends on any node.
/// The material is stored wrapped with <c>Pan:Keys:EncryptionKey</c> when it is set (<see cref="KeyEncryption"/>); the
/// keys this ring hands out hold it unwrapped.
/// </summary>
public sealed class OAuthKeyRing(
    IServiceScopeFactory scopes, KeyEncryption encryption, OAuthKeyMaker maker, TimeProvider clock, ILogger<OAuthKeyRing> logger) : IDisposable
{
    public const string Signing = "sig";
    public const string Encryption = "enc";

    /// <summary>Live generations kept per kind: the current one and the one before (tokens it made stay valid).</summary>
    public const int LiveGenerations = 2;

    /// <summary>How often a node may read the live keys again for tokens naming a key it does not know.</summary>
    public static readonly TimeSpan RereadInterval = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim gate = new(1, 1);
    private IReadOnlyList<OAuthKey>? keys;
    private Learned learned = Learned.Empty;

    /// <summary>Loads the live keys, creating the first generation when there is none.</summary>
    public async Task<IReadOnlyList<OAuthKey>> EnsureAsync(CancellationToken cancellationToken)
    {
        if (keys is { } loaded)
        {
            return loaded;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            if (keys is { } again)
            {
                return again;
            }

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            foreach (var kind in new[] { Signing, Encryption })
            {
                if (!await db.Set<OAuthKey>().AnyAsync(k => k.Kind == kind && k.Retired == null, cancellationToken))
                {
                    await TryAddAsync(db, kind, 1, maker.Make(kind), cancellationToken);
                }
            }

            keys = await LiveAsync(db, cancellationToken);
            return keys;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The material of the next generation of both keys, for <see cref="RotateAsync"/>. Slow (an RSA key): make it
    /// before the rotation's transaction opens.
    /// </summary>
    public OAuthKeyMaterial NewMaterial() => new(maker.Make(Signing), maker.Make(Encryption));

    /// <summary>
    /// Adds the next generation of both keys (with <paramref name="material"/>, from <see cref="NewMaterial"/>) and
    /// retires generations older than the previous one. Running nodes keep their keys until they restart. Returns the
    /// new generation numbers.
    /// </summary>
    public async Task<(long Signing, long Encryption)> RotateAsync(PanDbContext db, OAuthKeyMaterial material, CancellationToken cancellationToken)
    {
        // Why read the live keys first: it checks they can be read with this process's keys, and a row wrapped with
        // Pan:Keys:NextEncryptionKey makes the new keys wrapped with it too (KeyEncryption), as on a server.
        await LiveAsync(db, cancellationToken);
        var result = new Dictionary<string, long>();
        foreach (var kind in new[] { Signing, Encryption })
        {
            var next = await AddNextAsync(db, kind, material.For(kind), cancellationToken);
            var now = clock.GetUtcNow();
            await db.Set<OAuthKey>()
                .Where(k => k.Kind == kind && k.Retired == null && k.Generation <= next - LiveGenerations)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.Retired, now), cancellationToken);
            result[kind] = next;
        }

        return (result[Signing], result[Encryption]);
    }

    public void Dispose() => gate.Dispose();

    /// <summary>
    /// Adds the generation after the newest one of <paramref name="kind"/>, in the caller's transaction; returns it.
    /// </summary>
    /// <remarks>
    /// Why read again after a lost insert: on PostgreSQL (read committed) two rotations at once both read the same newest
    /// generation, and the later insert of the next one fails on the unique (kind, generation) once the other rotation
    /// commits. The operator asked for a rotation, so this one reads the newest generation again (now the other's) and
    /// adds the one after it, as if it had run after the other; the failed insert is undone by the savepoint EF Core
    /// sets around a save in a transaction, so the transaction goes on. It reads again only while the newest generation
    /// moves: a refusal without another rotation behind it is not a race. On SQLite the rotation's transaction holds
    /// the write lock from its start (Microsoft.Data.Sqlite begins IMMEDIATE), so rotations already run one after the other.
    /// </remarks>
    private async Task<long> AddNextAsync(PanDbContext db, string kind, byte[] material, CancellationToken cancellationToken)
    {
        long? lost = null;
        while (true)
        {
            var newest = await db.Set<OAuthKey>().Where(k => k.Kind == kind).MaxAsync(k => (long?)k.Generation, cancellationToken) ?? 0;
            if (newest == lost)
            {
                throw new InvalidOperationException($"The OAuth {kind} key generation {newest + 1} could not be added, and no other rotation added it.");
            }

            if (await TryAddAsync(db, kind, newest + 1, material, cancellationToken))
            {
                return newest + 1;
            }

            lost = newest;
        }
    }

    /// <summary>Puts the live keys into OpenIddict's options, newest first (the first one signs / encrypts).</summary>
    public void Apply(OpenIddictServerOptions options)
    {
        // Why blocking: options are built synchronously; the start-up service has normally loaded the keys already.
        var live = keys ?? EnsureAsync(CancellationToken.None).GetAwaiter().GetResult();
        foreach (var key in live.Where(k => k.Kind == Signing))
        {
            options.SigningCredentials.Add(new SigningCredentials(SigningKey(key), SecurityAlgorithms.RsaSha256));
        }

        foreach (var key in live.Where(k => k.Kind == Encryption))
        {
            options.EncryptionCredentials.Add(new EncryptingCredentials(EncryptionKey(key), SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512));
        }
    }

    /// <summary>Whether <paramref name="keyId"/> names a key this node loaded at start or has read since.</summary>
    public bool Knows(string keyId) =>
        keys?.Any(k => k.KeyId == keyId) == true || Volatile.Read(ref learned).KeyIds.Contains(keyId);

    /// <summary>
    /// The live keys this node did not load at start (a rotation's later generation), for a token naming
    /// <paramref name="keyId"/> that it does not know. Read from the database at most once per
    /// <see cref="RereadInterval"/> for kids still unknown, so made-up kids cost little.
    /// </summary>
    public async ValueTask<(IReadOnlyList<SecurityKey> Signing, IReadOnlyList<SecurityKey> Encryption)> KeysNotLoadedAsync(
        string keyId, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref learned);
        if (!current.KeyIds.Contains(keyId) && current.IsStale(clock.GetUtcNow()) && keys is { } loaded)
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                current = Volatile.Read(ref learned);
                var now = clock.GetUtcNow();
                if (!current.KeyIds.Contains(keyId) && current.IsStale(now))
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var live = await LiveAsync(scope.ServiceProvider.GetRequiredService<PanDbContext>(), cancellationToken);
                    var fresh = live.Where(k => loaded.All(l => l.KeyId != k.KeyId)).ToList();
                    current = new Learned(
                        [.. fresh.Select(k => k.KeyId)],
                        [.. fresh.Where(k => k.Kind == Signing).Select(SigningKey)],
                        [.. fresh.Where(k => k.Kind == Encryption).Select(EncryptionKey)],
                        now);
                    Volatile.Write(ref learned, current);
                    if (fresh.Count > 0)
                    {
                        logger.LogInformation("Read {Count} OAuth key(s) of a later generation made after this node started", fresh.Count);
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        }

        return (current.Signing, current.Encryption);
    }

    private static RsaSecurityKey SigningKey(OAuthKey key)
    {
        var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(key.Material, out _);
        return new RsaSecurityKey(rsa) { KeyId = key.KeyId };
    }

    private static SymmetricSecurityKey EncryptionKey(OAuthKey key) => new(key.Material) { KeyId = key.KeyId };

    private async Task<IReadOnlyList<OAuthKey>> LiveAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var live = await db.Set<OAuthKey>().AsNoTracking().Where(k => k.Retired == null).OrderByDescending(k => k.Generation).ToListAsync(cancellationToken);
        foreach (var key in live)
        {
            key.Material = encryption.Unprotect(key.Material, KeyContexts.For(key), KeyContexts.Describe(key));
        }

        return live;
    }

    private async Task<bool> TryAddAsync(PanDbContext db, string kind, long generation, byte[] material, CancellationToken cancellationToken)
    {
        var key = new OAuthKey
        {
            Kind = kind,
            Generation = generation,
            KeyId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12)),
            Created = clock.GetUtcNow(),
        };
        key.Material = encryption.Protect(material, KeyContexts.For(key));
        db.Add(key);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Created OAuth {Kind} key generation {Generation}", kind, generation);
            return true;
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            // Why: another node made this generation first; its key is the one to use.
            db.Entry(key).State = EntityState.Detached;
            return false;
        }
    }
}

/// <summary>What a node read of the live keys after it started.</summary>
internal sealed record Learned(HashSet<string> KeyIds, IReadOnlyList<SecurityKey> Signing, IReadOnlyList<SecurityKey> Encryption, DateTimeOffset? ReadAt)
{
    public static Learned Empty { get; } = new([], [], [], null);

    public bool IsStale(DateTimeOffset now) => ReadAt is not { } at || now - at >= OAuthKeyRing.RereadInterval || now < at;
}

/// <summary>
/// Lets a node verify and decrypt tokens made with a key generation added after it started (<c>clients rotate-keys</c>
/// and a node restarted before this one): when a token's header names a key the node does not know, the keys it has
/// not loaded are read (<see cref="OAuthKeyRing.KeysNotLoadedAsync"/>) and added to this validation's keys. Why:
/// during a rolling restart a code, refresh token, access token or ID token hint from a restarted node reaches nodes
/// not restarted yet, which would refuse it (a code exchange answered invalid_grant).
/// </summary>
public sealed class KeyCatchUp(OAuthKeyRing ring) : IOpenIddictServerHandler<OpenIddictServerEvents.ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<OpenIddictServerEvents.ValidateTokenContext>()
            .UseSingletonHandler<KeyCatchUp>()
            // Why after the reference-token step: that step replaces a stored token's id by the token itself.
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateReferenceTokenIdentifier.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(OpenIddictServerEvents.ValidateTokenContext context)
    {
        if (context.TokenValidationParameters is not { } parameters || KeyIdOf(context.Token) is not { } keyId || ring.Knows(keyId))
        {
            return;
        }

        var (signing, encryption) = await ring.KeysNotLoadedAsync(keyId, context.CancellationToken);
        if (signing.Count > 0)
        {
            parameters.IssuerSigningKeys = [.. parameters.IssuerSigningKeys ?? [], .. signing];
        }

        if (encryption.Count > 0)
        {
            parameters.TokenDecryptionKeys = [.. parameters.TokenDecryptionKeys ?? [], .. encryption];
        }
    }

    /// <summary>The kid of a compact JWS or JWE's (outer) header; null when the value is no such token or names none.</summary>
    private static string? KeyIdOf(string? token)
    {
        var dot = token?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (token is null || token.Length > 16_384 || dot <= 0)
        {
            return null;
        }

        try
        {
            using var header = System.Text.Json.JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token[..dot]));
            return header.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && header.RootElement.TryGetProperty("kid", out var kid) && kid.ValueKind == System.Text.Json.JsonValueKind.String
                && kid.GetString() is { Length: > 0 and <= 64 } value ? value : null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

/// <summary>Loads (or makes) the provider's keys when the server starts, after the database is migrated.</summary>
public sealed class OAuthKeyStartup(OAuthKeyRing ring) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => ring.EnsureAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
