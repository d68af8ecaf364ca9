using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Guests;

namespace Pan.Server.Accounts;

/// <summary>
/// A live phone account's number (<c>accounts.phone_e164</c>) and an apinode account's mobile name
/// (<c>guest_accounts.account_key</c> "m:" + E.164): a conversion is refused a number a live phone account of another
/// account holds, checked inside its transaction after <see cref="HoldAsync"/>; a sign-up or a phone binding is not
/// refused for a mobile name (the SMS code proves the number, a name proves nothing). Holding the number also orders
/// these against a block of it (<c>PhoneBlocks.BlockAsync</c> holds it) and an SMS activation.
/// </summary>
/// <remarks>
/// Why a key of the number and not a unique index: the two live in different tables (one a column, the other a typed
/// key) and a number may rightly be both (a guest that bound its own number as its phone, or a name taken before the
/// number's holder signed up). On PostgreSQL a transaction-level advisory lock of the number orders the transactions
/// that take or block that number and no others; SQLite's transaction already holds the database's write lock
/// (Microsoft.Data.Sqlite begins IMMEDIATE). Every check after it reads what the other side committed (READ COMMITTED:
/// each statement sees the commits made before it). Order: whoever writes the number (a sign-up, a phone bound, a
/// block) holds it before writing; whoever must first take its member's row (<c>LiveMembers</c>: a conversion, an SMS
/// activation) holds it right after that row and before anything else.
/// </remarks>
public static class PhoneClaims
{
    /// <summary>The guest_accounts key of a mobile account name.</summary>
    public static string MobileNameKey(string e164) => "m:" + e164;

    /// <summary>Holds <paramref name="e164"/> for the caller's transaction (see the remarks of <see cref="PhoneClaims"/>).</summary>
    public static async Task HoldAsync(PanDbContext db, string e164, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("PhoneClaims.HoldAsync must run in the caller's transaction.");
        }

        if (db.Database.IsNpgsql())
        {
            var key = "phone:" + e164;
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({key}, 0))", cancellationToken);
        }
    }

    /// <summary>Whether a live account other than <paramref name="accountId"/> signs in with <paramref name="e164"/>.</summary>
    public static Task<bool> IsPhoneAccountAsync(PanDbContext db, string e164, long accountId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Accounts.AnyAsync(a => a.PhoneE164 == e164 && a.Deleted == null && a.Id != accountId, cancellationToken);
    }
}
