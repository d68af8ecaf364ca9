using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Imports;

namespace Pan.Server.Cli.Import;

/// <summary>A phone's account during an import: its id once saved (or the account a pending batch is adding) and its live member count.</summary>
public sealed class PhoneSlot
{
    public long? AccountId { get; set; }

    public Account? Pending { get; set; }

    public int LiveMembers { get; set; }
}

/// <summary>
/// Everything the import checks rows against, loaded once (one query per kind) so no row costs a database round trip:
/// the import map, taken display-name keys, email keys and usernames, the live accounts by phone and the blocked numbers.
/// </summary>
public sealed class ImportKeys
{
    public HashSet<(string Source, string LegacyId)> Imported { get; } = [];

    public HashSet<string> DisplayNameKeys { get; } = new(StringComparer.Ordinal);

    public HashSet<string> EmailKeys { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Usernames { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, PhoneSlot> Phones { get; } = new(StringComparer.Ordinal);

    /// <summary>The numbers an operator's block applies to when the keys were loaded (E.164): their rows are bad.</summary>
    public HashSet<string> BlockedPhones { get; } = new(StringComparer.Ordinal);

    public static async Task<ImportKeys> LoadAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var keys = new ImportKeys();
        await foreach (var e in db.Set<ImportMapEntry>().AsNoTracking().Select(e => new { e.Source, e.LegacyId }).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            keys.Imported.Add((e.Source, e.LegacyId));
        }

        await foreach (var m in db.Members.AsNoTracking().Select(m => new { m.DisplayNameKey, m.EmailKey, m.Username }).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            Add(keys.DisplayNameKeys, m.DisplayNameKey);
            Add(keys.EmailKeys, m.EmailKey);
            Add(keys.Usernames, m.Username);
        }

        var accounts = db.Accounts.AsNoTracking()
            .Where(a => a.PhoneE164 != null && a.Deleted == null)
            .Select(a => new { a.Id, a.PhoneE164, Live = a.Members.Count(m => m.Deleted == null) });
        await foreach (var a in accounts.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            keys.Phones[a.PhoneE164!] = new PhoneSlot { AccountId = a.Id, LiveMembers = a.Live };
        }

        // Why: an import makes no account for a blocked number, as no other way in does (PhoneBlocks).
        var now = DateTimeOffset.UtcNow;
        await foreach (var e164 in db.Set<Pan.Data.PhoneBlocks.BlockedPhone>().AsNoTracking().Where(b => b.Expires == null || b.Expires > now)
            .Select(b => b.PhoneE164).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            keys.BlockedPhones.Add(e164);
        }

        return keys;
    }

    private static void Add(HashSet<string> set, string? value)
    {
        if (value is not null)
        {
            set.Add(value);
        }
    }
}
