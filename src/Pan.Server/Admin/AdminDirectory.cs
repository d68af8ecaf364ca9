using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Admins;
using Pan.Server.Tokens;

namespace Pan.Server.Admin;

/// <summary>A signed-in admin, as an admin token says.</summary>
public sealed record AdminPrincipal(string Email, IReadOnlyList<string> Roles)
{
    public bool HasAnyRole(params string[] roles) => roles.Any(r => Roles.Contains(r, StringComparer.Ordinal));
}

/// <summary>An allow-list entry, for the operator.</summary>
public sealed record AdminListing(string Email, IReadOnlyList<string> Roles, DateTimeOffset Created);

/// <summary>
/// The admin allow-list (table <c>admins</c>, managed by the operator CLI) and admin sessions (table
/// <c>admin_sessions</c>): admin tokens are 256-bit random, stored as SHA-256 and valid <c>Pan:Admin:TokenHours</c>.
/// A token is checked against the allow-list on every use, so removing an admin (or changing roles) takes effect at once.
/// </summary>
public sealed class AdminDirectory(PanDbContext db, IOptions<AdminOptions> options, TimeProvider clock)
{
    /// <summary>The allow-list key of an email: trimmed and lower-cased.</summary>
    public static string Key(string email) => email.Trim().ToLowerInvariant();

    public async Task<AdminListing?> FindAsync(string email, CancellationToken cancellationToken)
    {
        var key = Key(email);
        var row = await db.Set<AdminUser>().AsNoTracking().SingleOrDefaultAsync(a => a.Email == key, cancellationToken);
        return row is null ? null : new AdminListing(row.Email, AdminRoles.Split(row.Roles), row.Created);
    }

    public async Task<IReadOnlyList<AdminListing>> ListAsync(CancellationToken cancellationToken)
    {
        var rows = await db.Set<AdminUser>().AsNoTracking().ToListAsync(cancellationToken);
        return [.. rows.OrderBy(r => r.Email, StringComparer.Ordinal).Select(r => new AdminListing(r.Email, AdminRoles.Split(r.Roles), r.Created))];
    }

    /// <summary>
    /// Adds an admin, or sets the roles of one already listed. True when the admin is new. A conditional insert decides
    /// (INSERT … ON CONFLICT DO NOTHING, the same SQL on SQLite and PostgreSQL): of two adds of one admin at once, one
    /// adds it and the other, having waited for it, sets the roles, as an add after it does. Why not look first: both
    /// found the email not listed and the second insert failed on the key (a caught unique violation would also have
    /// aborted the caller's PostgreSQL transaction).
    /// </summary>
    public async Task<bool> AddOrUpdateAsync(string email, string roles, CancellationToken cancellationToken)
    {
        var key = Key(email);
        var created = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // Why a second round: an admin removed between the insert that found it and the update is added after all.
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            if (await db.Database.ExecuteSqlInterpolatedAsync(
                    $"INSERT INTO admins (email, roles, created) VALUES ({key}, {roles}, {created}) ON CONFLICT (email) DO NOTHING", cancellationToken) == 1)
            {
                return true;
            }

            if (await db.Set<AdminUser>().Where(a => a.Email == key).ExecuteUpdateAsync(u => u.SetProperty(a => a.Roles, roles), cancellationToken) == 1)
            {
                return false;
            }
        }

        throw new DbUpdateConcurrencyException($"The admin {key} was added and removed again meanwhile.");
    }

    /// <summary>Removes an admin and ends their sessions (in one transaction, the caller's when one is open). False when the email was not listed.</summary>
    public async Task<bool> RemoveAsync(string email, CancellationToken cancellationToken)
    {
        var key = Key(email);
        await using var transaction = await Data.JoinedTransaction.BeginAsync(db, cancellationToken);
        await db.Set<AdminSession>().Where(s => s.Email == key).ExecuteDeleteAsync(cancellationToken);
        var removed = await db.Set<AdminUser>().Where(a => a.Email == key).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return removed > 0;
    }

    /// <summary>A new admin token for an allow-listed admin.</summary>
    public async Task<IssuedToken> OpenSessionAsync(string email, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var (token, hash) = OpaqueTokens.Create();
        var expires = now + options.Value.TokenLifetime;
        db.Add(new AdminSession { Hash = hash, Email = Key(email), Created = now, Expires = expires });
        await db.SaveChangesAsync(cancellationToken);
        return new IssuedToken(token, expires);
    }

    /// <summary>The admin behind a live admin token whose email is still allow-listed, else null. One query.</summary>
    public async Task<AdminPrincipal?> ValidateAsync(string? token, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(token) is not { } hash)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var row = await (
                from s in db.Set<AdminSession>()
                join a in db.Set<AdminUser>() on s.Email equals a.Email
                where s.Hash == hash && s.Expires > now
                select new { s.Hash, a.Email, a.Roles })
            .AsNoTracking()
            .SingleOrDefaultAsync(cancellationToken);
        return row is not null && CryptographicOperations.FixedTimeEquals(row.Hash, hash)
            ? new AdminPrincipal(row.Email, AdminRoles.Split(row.Roles))
            : null;
    }
}
