using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.HandOff;
using Pan.Data.Tokens;
using Pan.Server.Apps;
using Pan.Server.Deletion;
using Pan.Server.Tokens;

namespace Pan.Server.HandOff;

/// <summary>
/// The login tokens of the cross-app hand-off: 256-bit random, stored as SHA-256, valid for
/// <c>Pan:HandOff:LoginTokenMinutes</c>, bound to the app that made it, its auth_url and one member's session.
/// A token is alive while unused, unexpired, its session not revoked, its member not deleted and the member's token
/// generation unchanged (so logout everywhere, a password change or a deletion kill it too).
/// </summary>
public sealed class LoginTokens(
    PanDbContext db, TokenService tokens, IOptions<HandOffOptions> options, TimeProvider clock, ILogger<LoginTokens> logger, Metrics.PanMetrics metrics)
{
    /// <summary>
    /// Stores a login token for <paramref name="member"/> (its access token checked by the caller); null, with nothing
    /// stored, when the member is deleted by then.
    /// </summary>
    /// <remarks>
    /// Why the member is held first, in the token's transaction: its access token was checked before, and its deletion
    /// may have committed since or (PostgreSQL) be running still; a row stored then outlived the deletion, whose eraser
    /// had already run (dead, for the member is deleted, but kept until it expired). Held, either the deletion commits
    /// first and nothing is stored, or this commits first and the deletion's eraser takes the row.
    /// </remarks>
    public async Task<IssuedToken?> MakeAsync(string appId, string authUrl, AccessTokenInfo member, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveMembers.HoldAsync(db, member.Uid, cancellationToken))
        {
            return null;
        }

        var generation = await db.Members.Where(m => m.Uid == member.Uid).Select(m => m.TokenGeneration).SingleAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var (token, hash) = OpaqueTokens.Create();
        var expires = now + options.Value.LoginTokenLifetime;
        db.Add(new StoredLoginToken
        {
            Hash = hash,
            AppId = appId,
            AuthUrl = authUrl,
            Uid = member.Uid,
            SessionId = member.SessionId,
            TokenGeneration = generation,
            Created = now,
            Expires = expires,
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("App {AppId} made a login token for member {Uid}", appId, member.Uid);
        return new IssuedToken(token, expires);
    }

    /// <summary>
    /// The auth_url of a live login token, or null. Does not consume it. A stored auth_url that breaks today's rules
    /// (<see cref="AuthHosts.CheckShape"/>: a token made before control characters were refused) is never handed out:
    /// null, as for a dead token.
    /// </summary>
    public async Task<string?> PeekAsync(string? token, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(token) is not { } hash)
        {
            return null;
        }

        var authUrl = await Live(hash, uid: null, clock.GetUtcNow()).Select(t => t.AuthUrl).SingleOrDefaultAsync(cancellationToken);
        if (authUrl is not null && AuthHosts.CheckShape(authUrl, out _) is { } problem)
        {
            logger.LogWarning("A login token's stored auth_url was not handed out: it {Problem}", problem);
            return null;
        }

        return authUrl;
    }

    /// <summary>
    /// Consumes a live login token of member <paramref name="uid"/> and opens an auth session for that member
    /// (auth method <see cref="AuthMethods.LoginToken"/>), in one transaction. One conditional UPDATE decides, so of any
    /// number of concurrent callers exactly one gets a token; the others (and any later caller) get null. The member's
    /// row is held first (<see cref="LiveMembers.HoldAsync"/>), so a password change, a revocation of the member's sessions
    /// or a deletion in flight is either waited for (and the token found dead) or waits and then ends the new session.
    /// </summary>
    /// <remarks>
    /// Why TokenService's proof overload rather than a transaction of its own: it makes sure of the signing key before the
    /// transaction begins. Creating the next key (when the current one falls due) writes on a connection of its own,
    /// which on SQLite waited for this transaction's write lock until the exchange failed UNAVAILABLE, on every retry.
    /// </remarks>
    public async Task<IssuedToken?> ExchangeAsync(string? token, long uid, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(token) is not { } hash)
        {
            metrics.SignIn(Metrics.SignInMethods.HandOff, Metrics.SignInOutcomes.Wrong);
            return null;
        }

        var now = clock.GetUtcNow();
        var issued = await Metrics.SignIns.CountAsync(metrics, Metrics.SignInMethods.HandOff, () => tokens.IssueAuthTokenAsync(AuthMethods.LoginToken, async ct =>
        {
            // Why first: a password change or a deletion of the member writes the member row, then ends its sessions,
            // and never touches its login tokens (the token generation kills them). On PostgreSQL a check of the token
            // while such a change was not yet committed found the old generation and opened a session the change had
            // already passed over, which then outlived it. Holding the member row waits for the change; the UPDATE
            // below then sees what it committed.
            if (!await LiveMembers.HoldAsync(db, uid, ct))
            {
                return null;
            }

            var consumed = await Live(hash, uid, now).ExecuteUpdateAsync(u => u.SetProperty(t => t.UsedAt, now), ct);
            return consumed != 1
                ? null
                : await db.Members.Where(m => m.Uid == uid).Select(m => new AuthSubject(m.Uid, m.ObjectId, m.AccountId)).SingleAsync(ct);
        }, cancellationToken));
        metrics.SignIn(Metrics.SignInMethods.HandOff, issued is null ? Metrics.SignInOutcomes.Wrong : Metrics.SignInOutcomes.Ok);
        if (issued is not null)
        {
            logger.LogInformation("Member {Uid} signed in through a login token", uid);
        }

        return issued;
    }

    private IQueryable<StoredLoginToken> Live(byte[] hash, long? uid, DateTimeOffset now) =>
        db.Set<StoredLoginToken>().Where(t =>
            t.Hash == hash && t.UsedAt == null && t.Expires > now && (uid == null || t.Uid == uid)
            && db.Set<AuthSession>().Any(s => s.Id == t.SessionId && s.Revoked == null && s.Expires > now)
            && db.Members.Any(m => m.Uid == t.Uid && m.Deleted == null && m.TokenGeneration == t.TokenGeneration && m.Account!.Deleted == null));
}
