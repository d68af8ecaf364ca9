using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Apps;
using Pan.Server.Members;
using Pan.Server.Tokens;

namespace Pan.Server.Apps;

/// <summary>A registered app of the family (seeded from the seed's AppId values), as other features see it.</summary>
public sealed record RegisteredApp(string AppId, string Name, IReadOnlyList<string> AllowedAuthUrlHosts);

/// <summary>
/// The registry of the family's apps: their ids, hashed secrets and the hosts their <c>auth_url</c>s may point to.
/// Apps authenticate with (app_id, app_secret), in request fields or in the metadata/headers
/// <c>x-pan-app-id</c> / <c>x-pan-app-secret</c>.
/// </summary>
/// <remarks>
/// Secrets are 256-bit random values (43 base64url characters) made by the operator CLI and stored as their SHA-256.
/// Why not Argon2id: a slow hash protects low-entropy secrets (passwords) against guessing; 256 random bits cannot be
/// guessed, so one SHA-256 is as strong and keeps every app call cheap.
/// </remarks>
public sealed class AppRegistry(PanDbContext db)
{
    public const string AppIdHeader = "x-pan-app-id";
    public const string AppSecretHeader = "x-pan-app-secret";

    // Why: compared against when the app is unknown or has no secret, so every failure does the same work.
    private static readonly byte[] NoSecret = new byte[32];

    /// <summary>The app when <paramref name="appSecret"/> is its current secret (constant-time check), else null.</summary>
    public async Task<RegisteredApp?> AuthenticateAsync(string? appId, string? appSecret, CancellationToken cancellationToken)
    {
        var id = AppIds.Normalize(appId);
        // Why: OpaqueTokens.Hash refuses anything that cannot be one of our secrets (wrong length or alphabet) unhashed.
        var presented = OpaqueTokens.Hash(appSecret);
        var row = id is null
            ? null
            : await db.Set<StoredApp>().AsNoTracking().SingleOrDefaultAsync(a => a.AppId == id, cancellationToken);
        var expected = row?.SecretHash is { Length: 32 } hash ? hash : NoSecret;
        var matches = CryptographicOperations.FixedTimeEquals(presented ?? NoSecret, expected);
        return matches && presented is not null && row?.SecretHash is not null ? ToRegisteredApp(row) : null;
    }

    internal static RegisteredApp ToRegisteredApp(StoredApp row) => new(row.AppId, row.Name, AuthHosts.Split(row.AuthHosts));
}
