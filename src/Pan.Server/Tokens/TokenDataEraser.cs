using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Tokens;
using Pan.Server.Deletion;

namespace Pan.Server.Tokens;

/// <summary>
/// Erases deleted members' sign-in rows, inside the deletion's transaction: their auth sessions (with the access tokens
/// and Omniauth refresh tokens issued under them), their access tokens issued under another session of their phone,
/// and their verify tokens, spent or not (a guest's del_tokens among them). The deletion has already ended them all
/// (<see cref="TokenService"/>); without this their rows stayed until they expired, up to <c>Pan:Tokens:AuthTokenDays</c>.
/// </summary>
public sealed class TokenDataEraser(PanDbContext db) : IMemberDataEraser
{
    public async Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken)
    {
        var accounts = db.Members.Where(m => uids.Contains(m.Uid)).Select(m => m.AccountId);
        var sessions = db.Set<AuthSession>().Where(s => accounts.Contains(s.AccountId)).Select(s => s.Id);
        // Why through the sessions of the members' phones: access_tokens is indexed by session, not by member, and a
        // member's access tokens are issued under sessions of its phone (its own, or a sibling's auth token's). Those
        // issued under a session of an account the member has left (a phoneless member moved under a phone) are under
        // its own sessions, since such an account holds that one member: they go with those sessions below (the foreign
        // key cascades), so no access token naming the member stays (DeleteMember_OfAMemberMovedUnderAPhone_*).
        await db.Set<StoredAccessToken>().Where(t => sessions.Contains(t.SessionId) && uids.Contains(t.Uid)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<AuthSession>().Where(s => uids.Contains(s.Uid)).ExecuteDeleteAsync(cancellationToken);
        // Why no index on verify_tokens.uid (this reads the table): a verify token lives Pan:Tokens:VerifyTokenMinutes
        // (5, at most 60) and TokenJanitor deletes expired ones every hour, so the table holds about two hours of step-ups
        // and resets at most. An index would add a write to every verify token issued (each step-up and reset) and to
        // every purge, on the hot path, to save a deletion a scan of that short table.
        await db.Set<StoredVerifyToken>().Where(t => uids.Contains(t.Uid)).ExecuteDeleteAsync(cancellationToken);
    }
}
