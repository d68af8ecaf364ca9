using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Tokens;
using Pan.Server.Tokens;

namespace Pan.Server.Session;

/// <summary>One live sign-in as ListSessions shows it.</summary>
public sealed record SignedInDevice(
    string SessionId, DateTimeOffset Created, DateTimeOffset Expires, string AuthMethod, long Uid, string? DisplayName,
    string? ClientIp, string? UserAgent, IReadOnlyList<string> AppIds, bool Current);

/// <summary>
/// The signed-in devices of a member: the live auth sessions an access token may see (ListSessions), and ending them
/// (EndSession, EndOtherSessions) the way Logout ends a session, through <see cref="TokenService.LogoutAsync"/>.
/// </summary>
/// <remarks>
/// Who sees what: a token whose session proved the phone (<see cref="AuthMethods.ProvesThePhone"/>) sees the sessions
/// of every live member of its phone, as it may act for each of them (AccessToken, OtherMember); any other token sees
/// its own member's sessions only, as it can reach no other member. A session of a deleted member is never shown (the
/// deletion erases them, <see cref="TokenDataEraser"/>; the join on live members covers a deletion's own transaction).
/// </remarks>
public sealed class SignedInDevices(PanDbContext db, TokenService tokens, TimeProvider clock)
{
    /// <summary>The most sessions ListSessions returns (the newest); EndOtherSessions ends the rest too.</summary>
    public const int ListLimit = 100;

    /// <summary>The live sessions <paramref name="caller"/> may see, newest first (at most <see cref="ListLimit"/>).</summary>
    public async Task<IReadOnlyList<SignedInDevice>> ListAsync(AccessTokenInfo caller, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var sessions = await (
                from s in Visible(caller, now)
                join m in db.Members on s.Uid equals m.Uid
                orderby s.Created descending, s.Id descending
                select new { s.Id, s.PublicId, s.Created, s.Expires, s.AuthMethod, s.Uid, m.DisplayName, s.ClientIp, s.UserAgent })
            .Take(ListLimit)
            .AsNoTracking()
            .ToListAsync(cancellationToken);
        if (sessions.Count == 0)
        {
            return [];
        }

        // Why the member's token generation: a token of an older generation is dead (a password change, a suspension),
        // as the access-token check finds it; the app no longer holds access through it. Why only the caller's own
        // member's tokens for a member-bound caller: a phone session it sees (opened as its member) may hold tokens
        // for the phone's other members, and which apps they use is theirs to see, not this member's.
        var sessionIds = sessions.Select(s => s.Id).ToList();
        var live = db.Set<StoredAccessToken>().Where(t => sessionIds.Contains(t.SessionId) && t.Expires > now);
        if (!caller.ProvesThePhone)
        {
            live = live.Where(t => t.Uid == caller.Uid);
        }

        var apps = await (
                from t in live
                join m in db.Members on t.Uid equals m.Uid
                where m.Deleted == null && m.TokenGeneration == t.TokenGeneration
                select new { t.SessionId, t.AppId })
            .Distinct()
            .AsNoTracking()
            .ToListAsync(cancellationToken);
        var appsBySession = apps.ToLookup(a => a.SessionId, a => a.AppId);

        return sessions.Select(s => new SignedInDevice(
                SessionIds.Encode(s.PublicId), s.Created, s.Expires, s.AuthMethod, s.Uid, s.DisplayName, s.ClientIp, s.UserAgent,
                appsBySession[s.Id].Order(StringComparer.Ordinal).ToList(), s.Id == caller.SessionId))
            .ToList();
    }

    /// <summary>
    /// Ends the session <paramref name="sessionId"/> (a well-formed <see cref="SessionIds"/> id, the session's own random public id) when it is one
    /// <paramref name="caller"/> may see and still live; false otherwise (unknown, ended, or not the caller's to see),
    /// ending nothing.
    /// </summary>
    public async Task<bool> EndAsync(AccessTokenInfo caller, string sessionId, CancellationToken cancellationToken)
    {
        if (SessionIds.Decode(sessionId) is not { } publicId)
        {
            return false;
        }

        var match = await Visible(caller, clock.GetUtcNow()).Where(s => s.PublicId == publicId)
            .Select(s => s.Id).Take(1).ToListAsync(cancellationToken);
        // Why 0 ended is "not found" too: another call ended it between the read and the revocation.
        return match.Count == 1 && await tokens.LogoutAsync(match, caller.AccountId, cancellationToken) == 1;
    }

    /// <summary>Ends every session <paramref name="caller"/> may see but its own; returns how many it ended.</summary>
    public async Task<int> EndOthersAsync(AccessTokenInfo caller, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var others = await Visible(caller, now).Where(s => s.Id != caller.SessionId).Select(s => s.Id).ToListAsync(cancellationToken);
        return others.Count == 0 ? 0 : await tokens.LogoutAsync(others, caller.AccountId, cancellationToken);
    }

    /// <summary>The live sessions of live members that <paramref name="caller"/> may see (see the remarks above).</summary>
    private IQueryable<AuthSession> Visible(AccessTokenInfo caller, DateTimeOffset now)
    {
        var sessions = db.Set<AuthSession>().Where(s =>
            s.AccountId == caller.AccountId && s.Revoked == null && s.Expires > now
            && db.Members.Any(m => m.Uid == s.Uid && m.AccountId == caller.AccountId && m.Deleted == null));
        return caller.ProvesThePhone ? sessions : sessions.Where(s => s.Uid == caller.Uid);
    }
}
