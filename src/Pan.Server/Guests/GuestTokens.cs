using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Guests;
using Pan.Server.Tokens;

namespace Pan.Server.Guests;

/// <summary>What a live apinode token says.</summary>
public sealed record GuestCaller(long Uid, string AppId, byte[] Hash);

/// <summary>
/// Apinode tokens: 256 random bits (43 base64url characters), stored only as SHA-256, bound to one member and one app.
/// createTemp tokens live <c>Pan:Guests:TempTokenDays</c>, login tokens <c>Pan:Guests:LoginTokenDays</c>. A token dies
/// at logout, when its account is converted with activation, and when the member's token generation moves on (member
/// deletion, password change, logout everywhere): every check reads the database, so on every node at once.
/// </summary>
public sealed class GuestTokens(PanDbContext db, IOptions<GuestOptions> options, TimeProvider clock)
{
    public const string TempKind = "temp";
    public const string LoginKind = "login";

    /// <summary>Issues a token (joins the caller's transaction when there is one).</summary>
    public async Task<ApinodeToken> IssueAsync(long uid, long tokenGeneration, string appId, string kind, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var expires = now + (kind == TempKind ? options.Value.TempTokenLifetime : options.Value.LoginTokenLifetime);
        var (token, hash) = OpaqueTokens.Create();
        db.Add(new GuestToken { Hash = hash, Uid = uid, AppId = appId, Kind = kind, TokenGeneration = tokenGeneration, Created = now, Expires = expires });
        await db.SaveChangesAsync(cancellationToken);
        return new ApinodeToken(token, expires.ToUnixTimeMilliseconds());
    }

    /// <summary>The caller behind the request's token, or <see cref="ApinodeException"/> −2 (none), −3 (invalid) or −4 (expired).</summary>
    public async Task<GuestCaller> RequireAsync(ApinodeRequest request, GuestApp app, CancellationToken cancellationToken)
    {
        var token = request.Token ?? throw new ApinodeException(ApinodeCodes.NoToken, "Token is missing.");
        var hash = OpaqueTokens.Hash(token) ?? throw Invalid();
        var row = await (
                from t in db.Set<GuestToken>()
                join m in db.Members on t.Uid equals m.Uid
                where t.Hash == hash && t.Revoked == null && m.Deleted == null && m.TokenGeneration == t.TokenGeneration
                select new { t.Hash, t.Uid, t.AppId, t.Expires })
            .AsNoTracking()
            .SingleOrDefaultAsync(cancellationToken);
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.Hash, hash) || row.AppId != app.AppId)
        {
            throw Invalid();
        }

        return row.Expires <= clock.GetUtcNow()
            ? throw new ApinodeException(ApinodeCodes.TokenExpired, "Token expired.")
            : new GuestCaller(row.Uid, row.AppId, hash);
    }

    /// <summary>Revokes one token; false when it was already revoked.</summary>
    public async Task<bool> RevokeAsync(byte[] hash, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return await db.Set<GuestToken>().Where(t => t.Hash == hash && t.Revoked == null)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.Revoked, now), cancellationToken) == 1;
    }

    /// <summary>Revokes every apinode token of a member.</summary>
    public Task<int> RevokeMemberAsync(long uid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return db.Set<GuestToken>().Where(t => t.Uid == uid && t.Revoked == null)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.Revoked, now), cancellationToken);
    }

    private static ApinodeException Invalid() => new(ApinodeCodes.InvalidToken, "Invalid token.");
}
