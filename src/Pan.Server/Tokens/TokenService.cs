using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Data.Tokens;
using Pan.Server.Data;
using Pan.Server.Members;
using Pan.Server.Session;
using Pan.Server.Suspension;

namespace Pan.Server.Tokens;

/// <summary>The <c>auth_method</c> claim of an auth token: how the phone-level session was opened.</summary>
public static class AuthMethods
{
    public const string Phone = "auth-by-phone";
    public const string Password = "auth-by-password";
    public const string EmailCode = "auth-by-email-code";
    public const string Switch = "auth-by-switch";
    public const string LoginToken = "auth-by-login-token";
    public const string Passkey = "auth-by-passkey";

    /// <summary>
    /// Whether a session opened by <paramref name="authMethod"/> speaks for its own member only, not for the phone: a
    /// password or an email code proves one member, a hand-off's login token carries the one member signed in to the
    /// app that made it, and a social login (<c>auth-by-omniauth</c>) proves the member its provider identity is linked
    /// to. Such a session yields access tokens for that member alone, sees no other member of the phone (OtherMember),
    /// and reaches one only through SwitchMember with a proof of the phone (the SMS step-up) or of that member's own
    /// password (SECURITY 13 and 19), as the sign-in pages offer the member chooser only after a phone sign-in. A phone
    /// sign-in (Login by phone, Register, ValidatePhone) proves the phone, which holds every member under it; a
    /// SwitchMember session opened after a proof of the phone stays phone-level too. Any other method is member-bound:
    /// a new way to sign in reaches the phone only once it is listed here as proving it.
    /// </summary>
    public static bool IsMemberBound(string authMethod) => !ProvesThePhone(authMethod);

    /// <summary>Whether a session opened by <paramref name="authMethod"/> proved the phone (see <see cref="IsMemberBound"/>).</summary>
    public static bool ProvesThePhone(string authMethod) => PhoneProving.Contains(authMethod);

    /// <summary>The methods whose sessions proved the phone; the one list, for checks in code and in SQL alike.</summary>
    public static readonly string[] PhoneProving = [Phone, Switch];
}

/// <summary>What a valid auth token says. <see cref="SessionId"/> is the server-side session that revocation ends.</summary>
public sealed record AuthTokenClaims(long Uid, Guid ObjectId, long AccountId, long SessionId, DateTimeOffset Expires, string AuthMethod);

/// <summary>
/// What a valid per-app access token says. <see cref="AuthMethod"/> is how its session was opened (see
/// <see cref="AuthMethods.IsMemberBound"/>).
/// </summary>
public sealed record AccessTokenInfo(long Uid, Guid ObjectId, long AccountId, long SessionId, string AppId, DateTimeOffset Expires, string AuthMethod)
{
    /// <summary>Whether the token's session proved the phone rather than its one member.</summary>
    public bool ProvesThePhone => AuthMethods.ProvesThePhone(AuthMethod);
}

public sealed record IssuedToken(string Token, DateTimeOffset Expires)
{
    /// <summary>The server-side session behind an auth token (0 for other tokens).</summary>
    public long SessionId { get; init; }

    /// <summary>The member an auth token was opened for (0 for other tokens); see <see cref="AuthSubject.AnyMemberOfThePhone"/>.</summary>
    public long Uid { get; init; }
}

/// <summary>The member an auth session is opened for: what the session row and the token carry.</summary>
public sealed record AuthSubject(long Uid, Guid ObjectId, long AccountId)
{
    /// <summary>
    /// Set by a sign-in that proved the phone (phone login): when this member is suspended, the session opens for
    /// another live, unsuspended member of the phone instead (the owner first, then the oldest), and is refused only
    /// when every member is suspended. Otherwise a suspended member's session is refused.
    /// </summary>
    public bool AnyMemberOfThePhone { get; init; }

    /// <summary>The subject of a saved member (uid, account and object_id set).</summary>
    public static AuthSubject Of(Member member)
    {
        ArgumentNullException.ThrowIfNull(member);
        return member.Uid <= 0 || member.AccountId <= 0 || member.ObjectId == Guid.Empty
            ? throw new ArgumentException("The member must be saved (uid, account and object_id set).", nameof(member))
            : new AuthSubject(member.Uid, member.ObjectId, member.AccountId);
    }
}

/// <summary>
/// Issues, validates and revokes Pan's tokens. Auth tokens are JWTs (HS512 with per-deployment keys persisted in the
/// database and rotated without downtime) carrying uid, object_id, expire and auth_method plus a server-side session id;
/// access tokens are opaque 256-bit secrets stored hashed; verify tokens are single-use, short-lived and bound to a
/// member and a purpose. Auth tokens are checked against the database on every use; access tokens are answered from
/// <see cref="AccessTokenCache"/> when a current copy exists, which every revocation on any node invalidates (through the
/// database's change feed) before the revoking call returns on its own node.
/// Shares the request's <see cref="PanDbContext"/>, so a caller's transaction covers the tokens it issues.
/// </summary>
public sealed class TokenService(
    PanDbContext db,
    SigningKeyRing keys,
    AccessTokenCache cache,
    IOptions<TokenOptions> options,
    IEnumerable<ILogoutRevoker> logoutRevokers,
    IHttpContextAccessor requests,
    TimeProvider clock,
    ILogger<TokenService> logger,
    Metrics.PanMetrics metrics)
{
    /// <summary>Longest auth_method or verify-token purpose (the width of their columns).</summary>
    public const int MaxLabelLength = 32;

    // Why: the access-token lookup runs on nearly every authenticated call (ValidateAccessToken, Me, …). A compiled
    // query skips building the LINQ expression tree and matching it against EF Core's query cache on each call, which
    // the bench measured at about a quarter of ValidateAccessToken's server CPU. Same SQL as the LINQ form. A compiled
    // query belongs to one model, so there is one per model (one per provider; tests host SQLite and PostgreSQL at once).
    private static readonly ConditionalWeakTable<IModel, Func<PanDbContext, byte[], DateTimeOffset, CancellationToken, Task<AccessTokenRow?>>> LookupQueries = new();

    private readonly AuthTokenCodec codec = new(keys);

    public async Task<IssuedToken> IssueAuthTokenAsync(Member member, string authMethod, CancellationToken cancellationToken)
    {
        var subject = AuthSubject.Of(member);
        CheckAuthMethod(authMethod);
        await keys.GetSigningKeyAsync(cancellationToken);
        var issued = await OpenAuthSessionAsync(subject, authMethod, cancellationToken);
        Log(issued, subject, authMethod);
        return issued;
    }

    /// <summary>
    /// Opens an auth session for the member that <paramref name="proof"/> names, in one transaction with what
    /// <paramref name="proof"/> writes first (accepting the one-time code that proves a sign-in, creating the member of
    /// a sign-up), and returns its token. When <paramref name="proof"/> returns null no session is opened and the result
    /// is null, but what it wrote is committed (a wrong code's counted try must stay counted); when it or the session's
    /// insert throws, nothing is kept. Joins the caller's transaction when there is one (the caller then commits).
    /// </summary>
    public async Task<IssuedToken?> IssueAuthTokenAsync(
        string authMethod, Func<CancellationToken, Task<AuthSubject?>> proof, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proof);
        CheckAuthMethod(authMethod);
        // Why before the transaction: the key ring may have to load or rotate the signing key, which reads and writes
        // on a connection of its own; on SQLite that write would wait for this transaction's write lock. Signing inside
        // the transaction then finds the key in memory.
        await keys.GetSigningKeyAsync(cancellationToken);
        if (db.Database.CurrentTransaction is not null)
        {
            var joined = await proof(cancellationToken);
            var opened = joined is null ? null : await OpenAuthSessionAsync(joined, authMethod, cancellationToken);
            if (opened is not null)
            {
                Log(opened, joined!, authMethod);
            }

            return opened;
        }

        // Why no savepoints: EF Core would wrap every SaveChanges in this transaction in SAVEPOINT … RELEASE (a round
        // trip each on PostgreSQL) so that a failed save could be undone alone; here any failure undoes everything.
        var savepoints = db.Database.AutoSavepointsEnabled;
        db.Database.AutoSavepointsEnabled = false;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var subject = await proof(cancellationToken);
            var issued = subject is null ? null : await OpenAuthSessionAsync(subject, authMethod, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            if (issued is not null)
            {
                Log(issued, subject!, authMethod);
            }

            return issued;
        }
        finally
        {
            db.Database.AutoSavepointsEnabled = savepoints;
        }
    }

    private static void CheckAuthMethod(string authMethod)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(authMethod);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(authMethod.Length, MaxLabelLength, nameof(authMethod));
    }

    private void Log(IssuedToken issued, AuthSubject subject, string authMethod) =>
        logger.LogInformation("Opened auth session {SessionId} for member {Uid} by {AuthMethod}", issued.SessionId, issued.Uid == 0 ? subject.Uid : issued.Uid, authMethod);

    /// <summary>Inserts the session row (in the caller's transaction, if any) and signs its token.</summary>
    private async Task<IssuedToken> OpenAuthSessionAsync(AuthSubject subject, string authMethod, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // Why: `expire` is whole seconds; the session ends at the same instant so both checks agree.
        var expires = DateTimeOffset.FromUnixTimeSeconds((now + options.Value.AuthTokenLifetime).ToUnixTimeSeconds());
        var (sessionId, uid) = await InsertAuthSessionAsync(subject, authMethod, now, expires, SessionDevice.Of(requests.HttpContext), cancellationToken);
        if (uid != subject.Uid)
        {
            // Only a phone-level sign-in whose member is suspended gets here: the session is another member's.
            subject = subject with { Uid = uid, ObjectId = await db.Members.Where(m => m.Uid == uid).Select(m => m.ObjectId).SingleAsync(cancellationToken) };
        }

        var token = await codec.WriteAsync(
            new AuthTokenPayload(subject.Uid, subject.ObjectId, expires.ToUnixTimeSeconds(), authMethod, sessionId, OpaqueTokens.RandomId()),
            cancellationToken);
        metrics.WhenCommitted(db, m => m.TokenIssued("auth"));
        return new IssuedToken(token, expires) { SessionId = sessionId, Uid = subject.Uid };
    }

    /// <summary>
    /// Inserts an auth session row for the subject unless its member is suspended, with the <paramref name="device"/>
    /// it is opened from (ListSessions); returns its id and member. A suspended
    /// member (every live member of the phone, for <see cref="AuthSubject.AnyMemberOfThePhone"/>) is refused:
    /// <see cref="MemberSuspendedException"/>, which rolls back the caller's transaction.
    /// </summary>
    /// <remarks>
    /// Why SQL rather than the change tracker: every sign-in inserts one, and nothing later changes it through the
    /// request's context; SaveChanges' tracking, snapshotting and batch building were a visible part of the phone-login
    /// profile for one INSERT. INSERT … SELECT … RETURNING is the same on SQLite and PostgreSQL; instants are stored as
    /// Unix milliseconds (the model's converter), as in <c>SmsGate</c>. It runs through the context's connection and
    /// transaction, so the change capture sees it as it saw SaveChanges.
    /// Why the suspension is checked in the INSERT itself: it adds no round trip to a sign-in, and it is read in the
    /// sign-in's transaction, after the proof. Why FOR SHARE on PostgreSQL: a suspension updates the member row first
    /// and then revokes the member's sessions; holding the row, either the suspension waits for this session to commit
    /// and then revokes it, or this waits for the suspension and then finds the member suspended. Either way no session
    /// outlives it. SQLite runs one writing transaction at a time.
    /// Why the device in the same INSERT: it is known before the statement (the request's address and User-Agent), so
    /// recording it costs two parameters, not a second write on the sign-in path. The same for the session's public id
    /// (<see cref="SessionIds"/>): drawn here, one parameter more.
    /// </remarks>
    private async Task<(long SessionId, long Uid)> InsertAuthSessionAsync(
        AuthSubject subject, string authMethod, DateTimeOffset created, DateTimeOffset expires, SessionDevice device, CancellationToken cancellationToken)
    {
        var (ip, agent) = (device.ClientIp, device.UserAgent);
        var publicId = SessionIds.NewPublicId();
        var createdMs = created.ToUnixTimeMilliseconds();
        var expiresMs = expires.ToUnixTimeMilliseconds();
        var postgres = db.Database.IsNpgsql();
        if (!subject.AnyMemberOfThePhone)
        {
            var ids = await (postgres
                ? db.Database.SqlQuery<long>($"""
                    INSERT INTO auth_sessions (account_id, uid, auth_method, created, expires, client_ip, user_agent, public_id)
                    SELECT {subject.AccountId}, uid, {authMethod}, {createdMs}, {expiresMs}, {ip}, {agent}, {publicId} FROM members
                    WHERE uid = {subject.Uid} AND (suspended_until IS NULL OR suspended_until <= {createdMs}) FOR SHARE
                    RETURNING id AS "Value"
                    """)
                : db.Database.SqlQuery<long>($"""
                    INSERT INTO auth_sessions (account_id, uid, auth_method, created, expires, client_ip, user_agent, public_id)
                    SELECT {subject.AccountId}, uid, {authMethod}, {createdMs}, {expiresMs}, {ip}, {agent}, {publicId} FROM members
                    WHERE uid = {subject.Uid} AND (suspended_until IS NULL OR suspended_until <= {createdMs})
                    RETURNING id AS "Value"
                    """)).ToListAsync(cancellationToken);
            if (ids.Count == 1)
            {
                return (ids[0], subject.Uid);
            }

            throw await RefusalAsync(db.Members.Where(m => m.Uid == subject.Uid), created, cancellationToken);
        }

        // Why the subject's own member even when deleted: a phone sign-in that raced its member's deletion opened its
        // session before suspensions existed, and still does; only a suspension turns to the phone's other members.
        var rows = await (postgres
            ? db.Database.SqlQuery<OpenedSession>($"""
                INSERT INTO auth_sessions (account_id, uid, auth_method, created, expires, client_ip, user_agent, public_id)
                SELECT {subject.AccountId}, uid, {authMethod}, {createdMs}, {expiresMs}, {ip}, {agent}, {publicId} FROM (
                    SELECT uid, is_owner FROM members
                    WHERE account_id = {subject.AccountId} AND (uid = {subject.Uid} OR deleted IS NULL)
                      AND (suspended_until IS NULL OR suspended_until <= {createdMs})
                    ORDER BY CASE WHEN uid = {subject.Uid} THEN 0 WHEN is_owner THEN 1 ELSE 2 END, uid
                    LIMIT 1 FOR SHARE) AS chosen
                RETURNING id AS "SessionId", uid AS "Uid"
                """)
            : db.Database.SqlQuery<OpenedSession>($"""
                INSERT INTO auth_sessions (account_id, uid, auth_method, created, expires, client_ip, user_agent, public_id)
                SELECT {subject.AccountId}, uid, {authMethod}, {createdMs}, {expiresMs}, {ip}, {agent}, {publicId} FROM members
                WHERE account_id = {subject.AccountId} AND (uid = {subject.Uid} OR deleted IS NULL)
                  AND (suspended_until IS NULL OR suspended_until <= {createdMs})
                ORDER BY CASE WHEN uid = {subject.Uid} THEN 0 WHEN is_owner THEN 1 ELSE 2 END, uid
                LIMIT 1
                RETURNING id AS "SessionId", uid AS "Uid"
                """)).ToListAsync(cancellationToken);
        if (rows.Count == 1)
        {
            return (rows[0].SessionId, rows[0].Uid);
        }

        // Why the INSERT's own candidates (the subject even when deleted): a member suspended and then deleted after the
        // sign-in found it, with no other live member, is refused as suspended rather than found missing.
        throw await RefusalAsync(
            db.Members.Where(m => m.AccountId == subject.AccountId && (m.Uid == subject.Uid || m.Deleted == null)), created, cancellationToken);
    }

    /// <summary>
    /// The refusal of a session none of <paramref name="members"/> could have: suspended (the earliest end among them,
    /// when it lifts for the first); anything else is a bug (the subject names no member).
    /// </summary>
    private static async Task<Exception> RefusalAsync(IQueryable<Member> members, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var until = await members.Where(m => m.SuspendedUntil > now).MinAsync(m => m.SuspendedUntil, cancellationToken);
        return until is { } end
            ? new MemberSuspendedException(end)
            : new InvalidOperationException("The auth session's member does not exist.");
    }

    /// <summary>One row an auth session INSERT returned.</summary>
    private sealed class OpenedSession
    {
        public long SessionId { get; set; }

        public long Uid { get; set; }
    }

    /// <summary>Null when the token is malformed, badly signed, expired or revoked.</summary>
    public async Task<AuthTokenClaims?> ValidateAuthTokenAsync(string? token, CancellationToken cancellationToken) =>
        (await CheckAuthTokenAsync(token, cancellationToken)).Claims;

    /// <summary>Like <see cref="ValidateAuthTokenAsync"/>, but tells an expired token (signature still good) from an invalid one.</summary>
    public async Task<AuthTokenCheck> CheckAuthTokenAsync(string? token, CancellationToken cancellationToken)
    {
        var (shape, payload) = await codec.ReadAsync(token, cancellationToken);
        if (shape != AuthTokenShape.Signed || payload is null)
        {
            return new AuthTokenCheck(AuthTokenStatus.Invalid, null);
        }

        var now = clock.GetUtcNow();
        if (payload.Expire <= now.ToUnixTimeSeconds())
        {
            return new AuthTokenCheck(AuthTokenStatus.Expired, null);
        }

        var accountId = await (
                from s in db.Set<AuthSession>()
                join a in db.Accounts on s.AccountId equals a.Id
                where s.Id == payload.SessionId && s.Uid == payload.Uid && s.Revoked == null && s.Expires > now && a.Deleted == null
                select (long?)s.AccountId)
            .SingleOrDefaultAsync(cancellationToken);
        return accountId is { } account
            ? new AuthTokenCheck(AuthTokenStatus.Valid, new AuthTokenClaims(
                payload.Uid, payload.ObjectId, account, payload.SessionId, DateTimeOffset.FromUnixTimeSeconds(payload.Expire), payload.AuthMethod))
            : new AuthTokenCheck(AuthTokenStatus.Invalid, null);
    }

    /// <summary>An access token for <paramref name="member"/> (any member under the auth token's phone) and one app.</summary>
    public async Task<IssuedToken> IssueAccessTokenAsync(AuthTokenClaims auth, Member member, string appId, CancellationToken cancellationToken)
    {
        if (member.AccountId != auth.AccountId)
        {
            throw new ArgumentException("The member is not under the auth token's account.", nameof(member));
        }

        var app = AppIds.Normalize(appId) ?? throw new ArgumentException("Unknown app id.", nameof(appId));
        var now = clock.GetUtcNow();
        var lifetime = now + options.Value.AccessTokenLifetime;
        var expires = lifetime < auth.Expires ? lifetime : auth.Expires;
        var token = AddAccessToken(auth.SessionId, member, app, now, expires);
        await db.SaveChangesAsync(cancellationToken);
        return new IssuedToken(token, expires);
    }

    /// <summary>
    /// Stages (does not save) an access-token row for <paramref name="member"/> and <paramref name="appId"/> on a session
    /// and returns the token's text: base64url, or the social-login API's 64 lower-case hex when <paramref name="hex"/>.
    /// The caller saves it with its other rows, in its transaction.
    /// </summary>
    /// <remarks>
    /// A suspended member gets none (<see cref="MemberSuspendedException"/>). Why the row the caller read is enough: a
    /// suspension bumps the member's token generation in the transaction that sets it, so a row read before it carries
    /// the old generation, and the token stamped with it is dead on arrival (no query is added to the token's checks).
    /// </remarks>
    internal string AddAccessToken(long sessionId, Member member, string appId, DateTimeOffset now, DateTimeOffset expires, bool hex = false)
    {
        MemberSuspensions.Refuse(member, now);
        var (token, hash) = hex ? OpaqueTokens.CreateHex() : OpaqueTokens.Create();
        var row = new StoredAccessToken
        {
            Hash = hash,
            SessionId = sessionId,
            Uid = member.Uid,
            AppId = appId,
            TokenGeneration = member.TokenGeneration,
            Created = now,
            Expires = expires,
        };
        db.Add(row);
        metrics.WhenSaved(db, row, m => m.TokenIssued("access"));
        return token;
    }

    /// <summary>Null when the token is unknown, expired or revoked, or its member was deleted. At most one indexed query.</summary>
    public async Task<AccessTokenInfo?> ValidateAccessTokenAsync(string? token, CancellationToken cancellationToken) =>
        await LookupAccessTokenAsync(token, cancellationToken) is { MemberDeleted: false } found ? found.Info : null;

    /// <summary>
    /// Looks up a live access token with its member and the member's account in one query. Unlike
    /// <see cref="ValidateAccessTokenAsync"/> it also returns tokens whose member was deleted (see <see cref="AccessTokenLookup.MemberDeleted"/>).
    /// </summary>
    public async Task<AccessTokenLookup?> LookupAccessTokenAsync(string? token, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(token) is not { } hash)
        {
            metrics.AccessTokenCheck("invalid", "none");
            return null;
        }

        var now = clock.GetUtcNow();
        if (cache.Get(hash, now) is { } cached)
        {
            metrics.AccessTokenCheck("valid", "hit");
            return new AccessTokenLookup(cached.Info, cached.Member);
        }

        var stamp = cache.Stamp;
        var lookup = LookupQueries.GetValue(db.Model, _ => CompileLookup());
        var row = await lookup(db, hash, now, cancellationToken);
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.Hash, hash))
        {
            metrics.AccessTokenCheck("invalid", "miss");
            return null;
        }

        row.Member.Account = row.Account;
        var member = row.Member;
        var info = new AccessTokenInfo(member.Uid, member.ObjectId, member.AccountId, row.SessionId, row.AppId, row.Expires, row.AuthMethod);
        if (member.Deleted is null)
        {
            cache.Add(hash, info, member, row.Account, stamp, now);
        }

        metrics.AccessTokenCheck(member.Deleted is null ? "valid" : "member_deleted", "miss");

        return new AccessTokenLookup(info, member);
    }

    public Task RevokeSessionAsync(long sessionId, CancellationToken cancellationToken) => RevokeSessionsAsync([sessionId], cancellationToken);

    /// <summary>
    /// Ends several sessions (and every access token issued from them) in one statement. Nothing the
    /// <see cref="ILogoutRevoker"/>s handed out ends with them: this alone is for sessions that can have handed nothing
    /// out (the hosted sign-in pages' browser sessions, which never hold an access token); the others end through
    /// <see cref="LogoutAsync"/>, <see cref="RevokeMemberSessionAsync"/> or the member and account revocations.
    /// Returns how many were still live and are now ended.
    /// </summary>
    public async Task<int> RevokeSessionsAsync(IReadOnlyCollection<long> sessionIds, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var count = await db.Set<AuthSession>().Where(s => sessionIds.Contains(s.Id)).EndAsync(now, cancellationToken);
        logger.LogInformation("Revoked {Count} auth session(s)", count);
        return count;
    }

    /// <summary>
    /// Logout: ends the sessions (all of phone <paramref name="accountId"/>) and, in the same transaction, what the
    /// <see cref="ILogoutRevoker"/>s handed out for the members those sessions spoke for (the membership passes): every
    /// member of the phone when one of them proved the phone, otherwise only the members they were opened for. Returns
    /// how many of the sessions were still live and are now ended. Also how ListSessions' EndSession and
    /// EndOtherSessions end sessions (<c>Session/SignedInDevices.cs</c>).
    /// </summary>
    /// <remarks>
    /// Why by the sessions' own auth method: a member-bound session (password, email code, hand-off, social login) can
    /// fetch nothing for the phone's other members, so its end must not take their passes (a sibling's password
    /// sign-in signing out, or ending its own other sign-ins, ended the passes the phone's holder had fetched).
    /// </remarks>
    public async Task<int> LogoutAsync(IReadOnlyCollection<long> sessionIds, long accountId, CancellationToken cancellationToken)
    {
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        var spokeFor = await db.Set<AuthSession>().AsNoTracking()
            .Where(s => sessionIds.Contains(s.Id) && s.AccountId == accountId)
            .Select(s => new { s.Uid, s.AuthMethod })
            .ToListAsync(cancellationToken);
        var ended = await RevokeSessionsAsync(sessionIds, cancellationToken);
        if (spokeFor.Any(s => AuthMethods.ProvesThePhone(s.AuthMethod)))
        {
            await EndHandedOutAsync(r => r.RevokeAsync(accountId, cancellationToken));
        }
        else if (spokeFor.Count > 0)
        {
            IReadOnlyCollection<long> uids = spokeFor.Select(s => s.Uid).Distinct().ToList();
            await EndHandedOutAsync(r => r.RevokeMembersAsync(uids, cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return ended;
    }

    /// <summary>Runs <paramref name="revoke"/> on every <see cref="ILogoutRevoker"/> (inside the caller's transaction).</summary>
    private async Task EndHandedOutAsync(Func<ILogoutRevoker, Task> revoke)
    {
        foreach (var revoker in logoutRevokers)
        {
            await revoke(revoker);
        }
    }

    /// <summary>
    /// Ends one session that speaks for member <paramref name="uid"/> alone (a social-login refresh family) and, in the
    /// same transaction, what the <see cref="ILogoutRevoker"/>s handed out for that member (its membership passes).
    /// </summary>
    public Task RevokeMemberSessionAsync(long sessionId, long uid, CancellationToken cancellationToken) =>
        RevokeMemberSessionsAsync([sessionId], uid, cancellationToken);

    /// <summary>
    /// Ends sessions that speak for member <paramref name="uid"/> alone (social-login refresh families) and, in the same
    /// transaction, what the <see cref="ILogoutRevoker"/>s handed out for that member; nothing when there are none.
    /// </summary>
    public async Task RevokeMemberSessionsAsync(IReadOnlyCollection<long> sessionIds, long uid, CancellationToken cancellationToken)
    {
        if (sessionIds.Count == 0)
        {
            return;
        }

        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        await RevokeSessionsAsync(sessionIds, cancellationToken);
        await EndHandedOutAsync(r => r.RevokeMembersAsync([uid], cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Ends every session and access token of one member and, in the same transaction, what the
    /// <see cref="ILogoutRevoker"/>s handed out for it (its membership passes).
    /// </summary>
    public Task RevokeMemberAsync(long uid, CancellationToken cancellationToken) =>
        RevokeAsync(db.Set<AuthSession>().Where(s => s.Uid == uid), db.Members.Where(m => m.Uid == uid),
            r => r.RevokeMembersAsync([uid], cancellationToken), cancellationToken);

    /// <summary>
    /// Ends every session and access token of one member except the caller's session <paramref name="keepSessionId"/>
    /// (a password change ends the member's other sessions, SECURITY 4 and 12). The member's token generation is bumped
    /// (so its access tokens issued from any other session, including sessions of other members of the phone, die)
    /// and the access tokens of the kept session are re-stamped with the new generation; what the
    /// <see cref="ILogoutRevoker"/>s handed out for the member ends too (the kept session asks for new passes), all in
    /// one transaction.
    /// </summary>
    public async Task RevokeMemberExceptAsync(long uid, long keepSessionId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        // Why the member row before the sessions: see RevokeAsync.
        await db.Members.Where(m => m.Uid == uid)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.TokenGeneration, m => m.TokenGeneration + 1), cancellationToken);
        var revoked = await db.Set<AuthSession>().Where(s => s.Uid == uid && s.Id != keepSessionId).EndAsync(now, cancellationToken);
        var generation = await db.Members.Where(m => m.Uid == uid).Select(m => m.TokenGeneration).FirstAsync(cancellationToken);
        var previous = generation - 1;
        await db.Set<StoredAccessToken>()
            .Where(t => t.Uid == uid && t.SessionId == keepSessionId && t.TokenGeneration == previous && t.Expires > now)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.TokenGeneration, generation), cancellationToken);
        await EndHandedOutAsync(r => r.RevokeMembersAsync([uid], cancellationToken));
        await transaction.CommitAsync(cancellationToken);

        logger.LogInformation("Revoked {Count} other auth session(s) of member {Uid} and bumped token generation", revoked, uid);
    }

    /// <summary>
    /// Ends every session and access token of every member under an account and, in the same transaction, what the
    /// <see cref="ILogoutRevoker"/>s handed out for those members.
    /// </summary>
    public Task RevokeAccountAsync(long accountId, CancellationToken cancellationToken) =>
        RevokeAsync(db.Set<AuthSession>().Where(s => s.AccountId == accountId), db.Members.Where(m => m.AccountId == accountId),
            r => r.RevokeAsync(accountId, cancellationToken), cancellationToken);

    /// <summary>
    /// A step-up token for a member that is not suspended: the suspension is read in the caller's transaction, after
    /// the member's row is held and the proof (code, password, token) accepted, and refuses with
    /// <see cref="MemberSuspendedException"/> (nothing issued; the caller's transaction is left to roll back). Why not
    /// in <see cref="IssueVerifyTokenAsync"/>: a reset proof may still be issued to a suspended member (README
    /// "Suspending a member"), and a suspension ends the member's unspent step-up tokens when it commits first.
    /// </summary>
    public async Task<IssuedToken> IssueStepUpTokenAsync(long uid, string purpose, CancellationToken cancellationToken)
    {
        await MemberSuspensions.RefuseAsync(db, uid, clock.GetUtcNow(), cancellationToken);
        return await IssueVerifyTokenAsync(uid, purpose, cancellationToken);
    }

    /// <summary>A step-up token: single-use, valid for minutes, bound to <paramref name="uid"/> and <paramref name="purpose"/>.</summary>
    public async Task<IssuedToken> IssueVerifyTokenAsync(long uid, string purpose, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(purpose.Length, MaxLabelLength, nameof(purpose));
        var now = clock.GetUtcNow();
        var expires = now + options.Value.VerifyTokenLifetime;
        var (token, hash) = OpaqueTokens.Create();
        db.Add(new StoredVerifyToken { Hash = hash, Uid = uid, Purpose = purpose, Created = now, Expires = expires });
        await db.SaveChangesAsync(cancellationToken);
        metrics.WhenCommitted(db, m => m.TokenIssued("verify"));
        return new IssuedToken(token, expires);
    }

    /// <summary>
    /// Whether a verify token could be consumed now (unused, unexpired, for this member and purpose), without spending
    /// it. Why: a caller that spends the token inside a later transaction checks it first, so a bad token is refused
    /// before any expensive work (SECURITY 17); only <see cref="ConsumeVerifyTokenAsync"/> decides.
    /// </summary>
    public async Task<bool> VerifyTokenIsLiveAsync(string? token, long uid, string purpose, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(token) is not { } hash)
        {
            return false;
        }

        return await LiveVerifyTokens(hash, uid, purpose, clock.GetUtcNow()).AsNoTracking().AnyAsync(cancellationToken);
    }

    /// <summary>
    /// The member and purpose of a verify token that may still be consumed (unused, unexpired), without spending it; null
    /// otherwise. Why: a caller that accepts more than one kind of proof (SwitchMember) reads which one it was given, then
    /// spends exactly that one with <see cref="ConsumeVerifyTokenAsync"/>.
    /// </summary>
    public async Task<(long Uid, string Purpose)?> FindVerifyTokenAsync(string? token, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(token) is not { } hash)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var found = await db.Set<StoredVerifyToken>().AsNoTracking()
            .Where(t => t.Hash == hash && t.UsedAt == null && t.Expires > now)
            .Select(t => new { t.Uid, t.Purpose })
            .FirstOrDefaultAsync(cancellationToken);
        return found is null ? null : (found.Uid, found.Purpose);
    }

    /// <summary>The verify token of <paramref name="hash"/> while it may still be consumed by this member for this purpose.</summary>
    private IQueryable<StoredVerifyToken> LiveVerifyTokens(byte[] hash, long uid, string purpose, DateTimeOffset now) =>
        db.Set<StoredVerifyToken>().Where(t => t.Hash == hash && t.UsedAt == null && t.Expires > now && t.Uid == uid && t.Purpose == purpose);

    /// <summary>
    /// Consumes a verify token; true exactly once, for the right member and purpose, before it expires. One conditional
    /// UPDATE, so of any number of concurrent consumers exactly one sees a changed row.
    /// </summary>
    public async Task<bool> ConsumeVerifyTokenAsync(string? token, long uid, string purpose, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(token) is not { } hash)
        {
            return false;
        }

        var now = clock.GetUtcNow();
        var changed = await LiveVerifyTokens(hash, uid, purpose, now)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.UsedAt, now), cancellationToken);
        return changed == 1;
    }

    private static Func<PanDbContext, byte[], DateTimeOffset, CancellationToken, Task<AccessTokenRow?>> CompileLookup() =>
        EF.CompileAsyncQuery((PanDbContext db, byte[] hash, DateTimeOffset now, CancellationToken _) => (
                from t in db.Set<StoredAccessToken>()
                join s in db.Set<AuthSession>() on t.SessionId equals s.Id
                join m in db.Members on t.Uid equals m.Uid
                join a in db.Accounts on m.AccountId equals a.Id
                where t.Hash == hash && t.Expires > now && s.Revoked == null && m.TokenGeneration == t.TokenGeneration
                select new AccessTokenRow(t.Hash, t.SessionId, t.AppId, t.Expires, s.AuthMethod, m, a))
            .AsNoTracking()
            .SingleOrDefault());

    /// <summary>
    /// Bumps the members' token generation (killing access tokens from any session), revokes the sessions and ends what
    /// the <see cref="ILogoutRevoker"/>s handed out (<paramref name="handedOut"/>), atomically.
    /// </summary>
    private async Task RevokeAsync(
        IQueryable<AuthSession> sessions, IQueryable<Member> members, Func<ILogoutRevoker, Task> handedOut, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // Why: join the caller's transaction (e.g. a deletion) when there is one; otherwise all of it commits together.
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        // Why: token_generation is not profile data, so Version is left alone and concurrent profile edits do not conflict.
        // Why the member rows before the sessions: a transaction that hands something out for a session holds the member
        // and then the session (LiveSessions.HoldAccessTokenAsync); taking them in the other order here could leave the
        // two waiting for each other on PostgreSQL.
        await members.ExecuteUpdateAsync(u => u.SetProperty(m => m.TokenGeneration, m => m.TokenGeneration + 1), cancellationToken);
        var revoked = await sessions.EndAsync(now, cancellationToken);
        await EndHandedOutAsync(handedOut);
        await transaction.CommitAsync(cancellationToken);

        logger.LogInformation("Revoked {Count} auth session(s) and bumped token generation", revoked);
    }
}

/// <summary>One row of the access-token lookup: the token's fields with its member and the member's account.</summary>
internal sealed record AccessTokenRow(byte[] Hash, long SessionId, string AppId, DateTimeOffset Expires, string AuthMethod, Member Member, Account Account);

/// <summary>
/// Purposes a verify token can be bound to. <see cref="SwitchMember"/> and <see cref="Delete"/> are issued after the SMS
/// step-up (a proof of the phone); VerifyMemberByPassword issues the same operations as <see cref="SwitchMemberByPassword"/>
/// and <see cref="DeleteByPassword"/>, a proof of one member's password, which reaches the phone's other members only
/// from a session that proved the phone (SECURITY 13). The apinode deleteVerify (a guest's own token and password)
/// issues <see cref="DeleteByPassword"/> too: it proves that member, never a phone.
/// </summary>
public static class VerifyPurposes
{
    public const string SwitchMember = "switch-member";
    public const string UpdateCredential = "update-credential";
    public const string Delete = "delete";
    public const string SwitchMemberByPassword = "switch-member-by-password";
    public const string DeleteByPassword = "delete-by-password";

    /// <summary>
    /// ExportMyData (a Pan extension). One purpose for both proofs: the export holds one member's data and, of the
    /// phone, what that member's own Me shows (its number) and the other members' public names, so the member's own
    /// password proves enough, and so does its mailbox (VerifyEmailCode with session_token "export-data").
    /// </summary>
    public const string ExportData = "export-data";

    /// <summary>
    /// BeginPasskeyRegistration (a Pan extension). One purpose for both proofs: a passkey signs in its own member only
    /// (a member-bound session), so that member's own password proves enough.
    /// </summary>
    public const string AddPasskey = "add-passkey";

    /// <summary>The purpose a password proof of <paramref name="operation"/> (an operation name of session_token) is stored under.</summary>
    public static string ByPassword(string operation) => operation switch
    {
        SwitchMember => SwitchMemberByPassword,
        Delete => DeleteByPassword,
        _ => operation,
    };
}
