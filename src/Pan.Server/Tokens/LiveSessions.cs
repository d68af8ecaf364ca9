using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Tokens;
using Pan.Server.Deletion;

namespace Pan.Server.Tokens;

/// <summary>Orders a transaction that hands something out on an access token's behalf against the end of its session.</summary>
public static class LiveSessions
{
    /// <summary>
    /// Holds, for the caller's transaction, the member and the session behind access token <paramref name="token"/>
    /// (whose check outside the transaction gave <paramref name="caller"/>) and checks the token again in the database,
    /// never in a node's cache: false when it is no longer live (its session revoked, its member's token generation
    /// moved on, the member deleted). Until the transaction ends, whatever would end that session or the member's
    /// sessions (a logout, a password change, a move under a phone, a deletion) waits for it, and then sees and ends
    /// what it wrote; one that committed first is seen here. Run it first in the transaction.
    /// </summary>
    /// <remarks>
    /// Why: a check before the transaction and a write inside it let a logout commit in between, and what was written
    /// (a membership pass) outlived the session (SECURITY 12). Why the member first, then the session: every
    /// transaction that ends sessions writes the member row before it revokes them (<see cref="LiveMembers"/>, and
    /// TokenService bumps the token generation before revoking), or touches no member row (a logout), so none of them
    /// waits for this transaction while holding something it waits for. On PostgreSQL share locks (<c>FOR SHARE</c>):
    /// a revocation's update of the session waits for this transaction, and this waits for a revocation not yet
    /// committed, then reads the row it left. On SQLite reads: the transaction already holds the database's write lock
    /// (Microsoft.Data.Sqlite begins IMMEDIATE), so nothing is revoked until it ends.
    /// </remarks>
    public static async Task<bool> HoldAccessTokenAsync(
        PanDbContext db, string? token, AccessTokenInfo caller, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(caller);
        if (OpaqueTokens.Hash(token) is not { } hash
            || !await LiveMembers.HoldAsync(db, caller.Uid, cancellationToken)
            || !await LiveMembers.HoldRowAsync(db, "auth_sessions", "id", caller.SessionId, "revoked", nameof(LiveSessions) + "." + nameof(HoldAccessTokenAsync), cancellationToken))
        {
            return false;
        }

        return await db.Set<StoredAccessToken>().AsNoTracking().AnyAsync(t =>
            t.Hash == hash && t.SessionId == caller.SessionId && t.Uid == caller.Uid && t.Expires > now
            && db.Members.Any(m => m.Uid == t.Uid && m.Deleted == null && m.TokenGeneration == t.TokenGeneration), cancellationToken);
    }
}
