using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Members;
using Pan.Data.Omniauth;
using Pan.Data.Tokens;
using Pan.Server.Session;
using Pan.Server.Tokens;

namespace Pan.Server.Omniauth;

/// <summary>Tokens handed to a social-login client: a Pan access token, a refresh token, and the access token's lifetime.</summary>
public sealed record OmniauthTokenPair(string AccessToken, string RefreshToken, int ExpiresIn);

/// <summary>
/// The tokens of the social-login API. A sign-in opens an auth session (<c>auth-by-omniauth</c>) for the member: the
/// refresh-token family. The access token is a real Pan access token of that session for the client's app (64 hex
/// characters, stored as SHA-256 like every Pan access token), so the member can call Me, ValidateAccessToken, Logout
/// and the rest of the gRPC API with it. Logout, password changes and deletion end the session or bump the member's
/// token generation, which kills the family's access and refresh tokens at once on every node.
/// </summary>
/// <remarks>
/// Refresh rotates: the presented token is spent by one conditional UPDATE and the next one issued in the same
/// session, whose expiry slides to <c>Pan:Omniauth:RefreshTokenDays</c> from now. Presenting a spent token again (a
/// stolen copy, or the legitimate client after the thief) revokes the whole family (SECURITY 14) and, in the same
/// transaction, the member's membership passes, which the family's access tokens could fetch (SECURITY 12).
/// </remarks>
public sealed class OmniauthTokens(
    PanDbContext db, TokenService tokens, IOptions<OmniauthOptions> options, IHttpContextAccessor requests, TimeProvider clock, ILogger<OmniauthTokens> logger)
{
    public const string AuthMethod = "auth-by-omniauth";

    /// <summary>
    /// Opens a new family for <paramref name="member"/> and client <paramref name="appId"/>, signed in through its
    /// <paramref name="provider"/> identity (inside the caller's transaction).
    /// </summary>
    public async Task<OmniauthTokenPair> IssueAsync(Member member, string appId, string provider, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var device = SessionDevice.Of(requests.HttpContext);
        var session = new AuthSession
        {
            PublicId = SessionIds.NewPublicId(),
            AccountId = member.AccountId,
            Uid = member.Uid,
            AuthMethod = AuthMethod,
            Created = now,
            Expires = now.AddDays(options.Value.RefreshTokenDays),
            ClientIp = device.ClientIp,
            UserAgent = device.UserAgent,
        };
        db.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return await AddPairAsync(session.Id, session.Expires, member, appId, provider, now, cancellationToken);
    }

    /// <summary>Spends <paramref name="refreshToken"/> and returns the member with the next pair; null when the token is not a live one of this client.</summary>
    public async Task<(Member Member, OmniauthTokenPair Tokens)?> RefreshAsync(string refreshToken, string appId, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(refreshToken) is not { } hash || refreshToken.Length != OpaqueTokens.HexLength)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var row = await db.Set<OmniauthRefreshToken>().AsNoTracking().SingleOrDefaultAsync(t => t.Hash == hash, cancellationToken);
        if (row is null || row.AppId != appId)
        {
            return null;
        }

        if (row.UsedAt is not null)
        {
            await RevokeFamilyAsync(row, cancellationToken);
            return null;
        }

        var live = await (
                from s in db.Set<AuthSession>()
                join m in db.Members on s.Uid equals m.Uid
                where s.Id == row.SessionId && s.Revoked == null && s.Expires > now && m.Deleted == null && m.TokenGeneration == row.TokenGeneration
                select m)
            .SingleOrDefaultAsync(cancellationToken);
        if (live is null || row.Expires <= now)
        {
            return null;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var spent = await db.Set<OmniauthRefreshToken>()
            .Where(t => t.Hash == hash && t.UsedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.UsedAt, now), cancellationToken);
        if (spent != 1)
        {
            // Why: another request spent it between our read and our update: two presenters of one token.
            await transaction.RollbackAsync(cancellationToken);
            await RevokeFamilyAsync(row, cancellationToken);
            return null;
        }

        var expires = now.AddDays(options.Value.RefreshTokenDays);
        await db.Set<AuthSession>().Where(s => s.Id == row.SessionId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Expires, expires), cancellationToken);
        var pair = await AddPairAsync(row.SessionId, expires, live, appId, row.Provider, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (live, pair);
    }

    private async Task<OmniauthTokenPair> AddPairAsync(
        long sessionId, DateTimeOffset sessionExpires, Member member, string appId, string? provider, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lifetime = TimeSpan.FromSeconds(options.Value.AccessTokenSeconds);
        var accessExpires = now + lifetime < sessionExpires ? now + lifetime : sessionExpires;
        var access = tokens.AddAccessToken(sessionId, member, appId, now, accessExpires, hex: true);
        var (refresh, refreshHash) = OpaqueTokens.CreateHex();
        db.Add(new OmniauthRefreshToken
        {
            Hash = refreshHash,
            SessionId = sessionId,
            Uid = member.Uid,
            AppId = appId,
            TokenGeneration = member.TokenGeneration,
            Created = now,
            Expires = sessionExpires,
            Provider = provider,
        });
        await db.SaveChangesAsync(cancellationToken);
        return new OmniauthTokenPair(access, refresh, (int)(accessExpires - now).TotalSeconds);
    }

    private async Task RevokeFamilyAsync(OmniauthRefreshToken row, CancellationToken cancellationToken)
    {
        logger.LogWarning("A spent refresh token of member {Uid} was presented again; ending its session {SessionId}", row.Uid, row.SessionId);
        // Why the member's passes too: whoever held the family's tokens may have fetched them (SECURITY 12).
        await tokens.RevokeMemberSessionAsync(row.SessionId, row.Uid, cancellationToken);
    }
}
