using Pan.Data;
using Pan.Data.Credentials;
using Pan.Server.Cli.Import;

namespace Pan.Server.Credentials;

/// <summary>
/// Stores imported legacy password hashes as given (<c>pbkdf2-sha1$…</c>, <c>md5md5$…</c>); PasswordHasher verifies them
/// and CredentialStore replaces them with Argon2id at the member's next successful sign-in. Runs inside the import
/// batch's transaction on the request's context.
/// </summary>
public sealed class LegacyPasswordWriter(PanDbContext db, TimeProvider clock) : ILegacyPasswordWriter
{
    public async Task WriteAsync(IReadOnlyList<LegacyPasswordHash> hashes, CancellationToken cancellationToken)
    {
        if (hashes.Count == 0)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var rows = hashes.Select(h => new MemberCredential { Uid = h.Uid, PasswordHash = h.Hash, PasswordChanged = now }).ToList();
        db.AddRange(rows);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var row in rows)
        {
            db.Entry(row).State = Microsoft.EntityFrameworkCore.EntityState.Detached;
        }
    }
}
