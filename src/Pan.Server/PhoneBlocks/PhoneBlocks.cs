using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.PhoneBlocks;
using Pan.Server.Phones;

namespace Pan.Server.PhoneBlocks;

/// <summary>
/// Blocks and unblocks phone numbers (a Pan extension), for the admin API and the operator command line alike. A block
/// belongs to the number, not to an account: while it applies (<see cref="BlockedPhone.Expires"/> null or in the
/// future) no SMS goes to the number (<see cref="Sms.SmsGate"/>) and no account takes it. Every check reads the
/// database, so a block or an unblock on one node holds on every node at once.
/// </summary>
public sealed class PhoneBlocks(PanDbContext db, TimeProvider clock, ILogger<PhoneBlocks> logger)
{
    /// <summary>Blocks listed per page.</summary>
    public const int PageSize = 100;

    /// <summary>The furthest expiry a block may be given: 100 years (36,525 days) from now.</summary>
    public static readonly TimeSpan LongestExpiry = TimeSpan.FromDays(36_525);

    /// <summary>Whether a block of <paramref name="e164"/> applies at <paramref name="now"/>, read in the caller's transaction (if any).</summary>
    public static Task<bool> IsBlockedAsync(PanDbContext db, string? e164, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return e164 is null
            ? Task.FromResult(false)
            : db.Set<BlockedPhone>().AnyAsync(b => b.PhoneE164 == e164 && (b.Expires == null || b.Expires > now), cancellationToken);
    }

    /// <summary>Refuses <paramref name="e164"/> when a block of it applies (<see cref="PhoneBlockedException"/>).</summary>
    public static async Task RefuseAsync(PanDbContext db, string? e164, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await IsBlockedAsync(db, e164, now, cancellationToken))
        {
            throw new PhoneBlockedException();
        }
    }

    /// <summary>What is wrong with <paramref name="expires"/> as a block's expiry (null: fine, or absent).</summary>
    public static string? CheckExpiry(DateTimeOffset? expires, DateTimeOffset now) => expires switch
    {
        null => null,
        { } end when end <= now => "must be in the future",
        { } end when end - now > LongestExpiry => "must be at most 100 years away",
        _ => null,
    };

    /// <summary>
    /// What is wrong with <paramref name="reason"/> (null: fine). Why no control characters: PostgreSQL cannot store a NUL
    /// (the write failed, INTERNAL), and a tab or a line break would break the columns of <c>phones list</c>.
    /// </summary>
    public static string? CheckReason(string? reason) =>
        string.IsNullOrWhiteSpace(reason) ? "is required"
        : reason.Trim().Length > BlockedPhone.ReasonMaxLength ? $"must be at most {BlockedPhone.ReasonMaxLength} characters"
        : reason.Trim().Any(char.IsControl) ? "must not contain control characters"
        : null;

    /// <summary>
    /// Blocks <paramref name="phone"/> until <paramref name="expires"/> (null: until unblocked), replacing a block it
    /// already has (reason, actor, time and expiry). Runs in the caller's transaction, with its audit line.
    /// </summary>
    public async Task BlockAsync(PhoneNumber phone, string reason, DateTimeOffset? expires, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(phone);
        RequireTransaction();
        // Why held: what lets a number be taken or used (a sign-up, a conversion, an SMS activation) holds it while it
        // checks for a block, so one in flight waits for this block and then sees it (Accounts.PhoneClaims).
        await Accounts.PhoneClaims.HoldAsync(db, phone.E164, cancellationToken);
        var now = clock.GetUtcNow();
        var row = await db.Set<BlockedPhone>().FirstOrDefaultAsync(b => b.PhoneE164 == phone.E164, cancellationToken);
        if (row is null)
        {
            row = new BlockedPhone { PhoneE164 = phone.E164 };
            db.Add(row);
        }

        row.Reason = reason.Trim();
        row.BlockedBy = actor;
        row.Created = now;
        row.Expires = expires;
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Blocked the phone number ending {PhoneSuffix} until {Expires}", phone.Suffix, expires);
    }

    /// <summary>Lifts the block of <paramref name="phone"/>; false when it had none (an expired one is removed too, and counts).</summary>
    public async Task<bool> UnblockAsync(PhoneNumber phone, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(phone);
        RequireTransaction();
        var removed = await db.Set<BlockedPhone>().Where(b => b.PhoneE164 == phone.E164).ExecuteDeleteAsync(cancellationToken) == 1;
        logger.LogInformation("Unblocked the phone number ending {PhoneSuffix}: {Removed}", phone.Suffix, removed);
        return removed;
    }

    /// <summary>The blocks that apply now, newest first, <see cref="PageSize"/> per page (page 1 is the first).</summary>
    public async Task<IReadOnlyList<BlockedPhone>> ListAsync(int page, CancellationToken cancellationToken)
    {
        // Why checked: the offset of a page past int.MaxValue / PageSize does not fit an int; computed anyway it wrapped
        // to a negative OFFSET, which PostgreSQL refuses (INTERNAL) and SQLite reads as 0 (the first page again).
        var index = Math.Max(page, 1) - 1;
        if (index > int.MaxValue / PageSize)
        {
            return [];
        }

        var now = clock.GetUtcNow();
        return await db.Set<BlockedPhone>().AsNoTracking()
            .Where(b => b.Expires == null || b.Expires > now)
            .OrderByDescending(b => b.Created).ThenBy(b => b.PhoneE164)
            .Skip(index * PageSize).Take(PageSize)
            .ToListAsync(cancellationToken);
    }

    private void RequireTransaction()
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("PhoneBlocks must run in the caller's transaction (with its audit line).");
        }
    }
}
