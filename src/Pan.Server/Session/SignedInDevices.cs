using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Tokens;
using Pan.Server.Tokens;

namespace Pan.Server.Session;

/// <summary>One live sign-in as ListSessions shows it.</summary>
public sealed record SignedInDevice(
    string SessionId, DateTimeOffset Created, DateTimeOffset Expires, string AuthMethod, long Uid, string? DisplayName,
    string? ClientIp, string? UserAgent, IReadOnlyList<string> AppIds, bool Current, bool CanEnd);

/// <summary>What <see cref="SignedInDevices.EndAsync"/> did.</summary>
public enum SessionEnd
{
    /// <summary>The session was live and is now ended.</summary>
    Ended,

    /// <summary>No live session the caller may see has the id (unknown, ended, not the caller's to see); nothing ended.</summary>
    NotFound,

    /// <summary>The session proved the phone and the caller's did not (see <see cref="SignedInDevices.CanEnd"/>); nothing ended.</summary>
    ProvedThePhone,
}

/// <summary>
/// The signed-in devices of a member: the live auth sessions an access token may see (ListSessions), and ending them
/// (EndSession, EndOtherSessions) the way Logout ends a session, through <see cref="TokenService.LogoutAsync"/>.
/// </summary>
/// <remarks>
/// Who sees what: a token whose session proved the phone (<see cref="AuthMethods.ProvesThePhone"/>) sees the sessions
/// of every live member of its phone, as it may act for each of them (AccessToken, OtherMember); any other token sees
/// its own member's sessions only, as it can reach no other member. A session of a deleted member is never shown (the
/// deletion erases them, <see cref="TokenDataEraser"/>; the join on live members covers a deletion's own transaction).
/// Who ends what: a member-bound token sees the phone sign-ins opened as its member, but may not end them
/// (<see cref="CanEnd"/>).
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
                appsBySession[s.Id].Order(StringComparer.Ordinal).ToList(), s.Id == caller.SessionId, CanEnd(caller, s.AuthMethod)))
            .ToList();
    }

    /// <summary>
    /// Whether <paramref name="caller"/> may end a session it sees that was opened by <paramref name="authMethod"/>:
    /// always, unless the caller is member-bound and the session proved the phone.
    /// </summary>
    /// <remarks>
    /// Why: a session that proved the phone speaks for every member of it (it may hold access tokens of the phone's
    /// other members), and is shown to a member-bound session only because it was opened as that member. Ending it
    /// would end what it holds for the siblings on the strength of one member's password, mailbox or social login,
    /// which reaches no sibling anywhere else (AccessToken, OtherMember, SwitchMember).
    /// </remarks>
    public static bool CanEnd(AccessTokenInfo caller, string authMethod) => caller.ProvesThePhone || !AuthMethods.ProvesThePhone(authMethod);

    /// <summary>
    /// Ends the session <paramref name="sessionId"/> (a well-formed <see cref="SessionIds"/> id, the session's own random public id) when it is one
    /// <paramref name="caller"/> may see, still live and may end (<see cref="CanEnd"/>); otherwise ends nothing and says why.
    /// </summary>
    public async Task<SessionEnd> EndAsync(AccessTokenInfo caller, string sessionId, CancellationToken cancellationToken)
    {
        if (SessionIds.Decode(sessionId) is not { } publicId)
        {
            return SessionEnd.NotFound;
        }

        var match = await Visible(caller, clock.GetUtcNow()).Where(s => s.PublicId == publicId)
            .Select(s => new { s.Id, s.AuthMethod }).Take(1).ToListAsync(cancellationToken);
        if (match.Count == 0)
        {
            return SessionEnd.NotFound;
        }

        if (!CanEnd(caller, match[0].AuthMethod))
        {
            return SessionEnd.ProvedThePhone;
        }

        // Why 0 ended is "not found" too: another call ended it between the read and the revocation.
        return await tokens.LogoutAsync([match[0].Id], caller.AccountId, cancellationToken) == 1 ? SessionEnd.Ended : SessionEnd.NotFound;
    }

    /// <summary>
    /// Ends every session <paramref name="caller"/> may see and end (<see cref="CanEnd"/>) but its own; returns how many
    /// it ended.
    /// </summary>
    public async Task<int> EndOthersAsync(AccessTokenInfo caller, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var others = Visible(caller, now).Where(s => s.Id != caller.SessionId);
        if (!caller.ProvesThePhone)
        {
            // CanEnd in SQL: the sessions that did not prove the phone.
            others = others.Where(s => !AuthMethods.PhoneProving.Contains(s.AuthMethod));
        }

        var ids = await others.Select(s => s.Id).ToListAsync(cancellationToken);
        return ids.Count == 0 ? 0 : await tokens.LogoutAsync(ids, caller.AccountId, cancellationToken);
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
