using Microsoft.EntityFrameworkCore;
using Pan.Data;

namespace Pan.Server.DisplayNames;

/// <summary>Looks up whether a display name is taken by a live member.</summary>
public sealed class DisplayNameDirectory(PanDbContext db)
{
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "admin", "administrator", "pan", "system", "support", "root", "moderator", "official", "staff",
    };

    /// <summary>True when a live member (other than <paramref name="exceptUid"/>) holds the name, or it is reserved.</summary>
    public Task<bool> IsTakenAsync(string name, CancellationToken cancellationToken, long? exceptUid = null)
    {
        var key = DisplayNameRules.Key(name);
        return Reserved.Contains(key)
            ? Task.FromResult(true)
            : db.Members.AsNoTracking().AnyAsync(m => m.DisplayNameKey == key && m.Uid != exceptUid, cancellationToken);
    }
}
