using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Email;
using Pan.Server.Data;
using Pan.Server.PhaseSessions;
using Pan.Server.Tokens;

namespace Pan.Server.Email;

/// <summary>What the email challenges are for (the <c>purpose</c> column of <c>email_codes</c>).</summary>
public static class EmailPurposes
{
    public const string VerifyEmail = "verify-email";
    public const string Reset = "reset";
}

/// <summary>A new challenge: the code to type (shown once) and the link token (shown once).</summary>
public sealed record IssuedEmailCode(string Code, string LinkToken, DateTimeOffset Expires);

/// <summary>
/// Email challenges: a typed code plus a link token, mailed together. Why a 10-character code rather than 6 digits:
/// VerifyEmailCode and AuthResetVerifyEmailCode receive the code alone (no session, no member), so the code itself must
/// be unguessable among all live codes — 10 symbols of a 32-letter alphabet without look-alikes (0/O, 1/I) carry 50 bits.
/// The link token is a 256-bit opaque token. Both are stored as SHA-256 hashes, expire with <c>Pan:Codes:CodeMinutes</c>
/// (≤ 10), and are used once: consuming is one conditional UPDATE, so of concurrent submissions exactly one wins.
/// Issuing a new challenge deletes the member's earlier ones of the same purpose (a resend kills the old code).
/// </summary>
public sealed class EmailCodes(PanDbContext db, TimeProvider clock, IOptions<PhaseSessionOptions> options)
{
    public const int CodeLength = 10;

    private const string Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

    public int Minutes => options.Value.CodeMinutes;

    public async Task<IssuedEmailCode> IssueAsync(long uid, string purpose, string addressKey, Uri? redirect, CancellationToken cancellationToken)
    {
        await db.Set<EmailCode>().Where(c => c.Uid == uid && c.Purpose == purpose).ExecuteDeleteAsync(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            var code = NewCode();
            var (link, linkHash) = OpaqueTokens.Create();
            var now = clock.GetUtcNow();
            var row = new EmailCode
            {
                Uid = uid,
                Purpose = purpose,
                AddressKey = addressKey,
                CodeHash = HashCode(code)!,
                LinkHash = linkHash,
                Redirect = redirect?.AbsoluteUri,
                Created = now,
                Expires = now.AddMinutes(Minutes),
            };
            db.Add(row);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return new IssuedEmailCode(Display(code), link, row.Expires);
            }
            catch (DbUpdateException ex) when (attempt < 3 && DbErrors.IsUniqueViolation(ex))
            {
                // A 50-bit collision with a stored code: practically never; draw again.
                db.Entry(row).State = EntityState.Detached;
            }
        }
    }

    /// <summary>The live challenge of <paramref name="purpose"/> that <paramref name="code"/> (as typed) belongs to, or null.</summary>
    public Task<EmailCode?> FindByCodeAsync(string? code, string purpose, CancellationToken cancellationToken) =>
        HashCode(code) is { } hash ? FindAsync(c => c.CodeHash == hash, purpose, cancellationToken) : Task.FromResult<EmailCode?>(null);

    /// <summary>The live challenge of <paramref name="purpose"/> behind a link token, or null.</summary>
    public Task<EmailCode?> FindByLinkAsync(string? token, string purpose, CancellationToken cancellationToken) =>
        OpaqueTokens.Hash(token) is { } hash ? FindAsync(c => c.LinkHash == hash, purpose, cancellationToken) : Task.FromResult<EmailCode?>(null);

    /// <summary>Uses the challenge up; true for exactly one caller, before it expires.</summary>
    public async Task<bool> ConsumeAsync(EmailCode challenge, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var changed = await db.Set<EmailCode>()
            .Where(c => c.Id == challenge.Id && c.UsedAt == null && c.Expires > now)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.UsedAt, now), cancellationToken);
        return changed == 1;
    }

    /// <summary>A new code: <see cref="CodeLength"/> symbols from <see cref="RandomNumberGenerator"/>.</summary>
    public static string NewCode() => RandomNumberGenerator.GetString(Alphabet, CodeLength);

    /// <summary>The code as mailed: two groups of five ("ABCDE-FGHJK").</summary>
    public static string Display(string code) => code[..5] + "-" + code[5..];

    /// <summary>The hash of a typed code (case, spaces and dashes ignored), or null when it cannot be one of ours.</summary>
    public static byte[]? HashCode(string? typed)
    {
        if (typed is null || typed.Length > 32)
        {
            return null;
        }

        var code = string.Concat(typed.Where(c => c is not (' ' or '-'))).ToUpperInvariant();
        return code.Length == CodeLength && code.All(c => Alphabet.Contains(c, StringComparison.Ordinal))
            ? SHA256.HashData(Encoding.ASCII.GetBytes(code))
            : null;
    }

    private async Task<EmailCode?> FindAsync(System.Linq.Expressions.Expression<Func<EmailCode, bool>> match, string purpose, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var row = await db.Set<EmailCode>().AsNoTracking().Where(match).FirstOrDefaultAsync(cancellationToken);
        return row is not null && row.Purpose == purpose && row.UsedAt is null && row.Expires > now ? row : null;
    }
}
