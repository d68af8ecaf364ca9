using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Passkeys;
using Pan.Data.Tokens;

namespace Pan.Server.Tokens;

/// <summary>
/// Deletes expired access tokens, verify tokens, auth sessions and begun passkey ceremonies every hour (by the injected clock), so the token
/// tables hold live rows only, and clears the device facts ended sessions still hold (<see cref="EndedSessions.ForgetLeftoverDevicesAsync"/>). Expired rows are already refused by every check; this is housekeeping, and every
/// node may run it (the deletes are idempotent).
/// </summary>
public sealed class TokenJanitor(IServiceScopeFactory scopes, TimeProvider clock, ILogger<TokenJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        // Access tokens never outlive their session, so deleting them first leaves no orphan behind the sessions.
        var tokens = await db.Set<StoredAccessToken>().Where(t => t.Expires <= now).ExecuteDeleteAsync(cancellationToken);
        var verify = await db.Set<StoredVerifyToken>().Where(t => t.Expires <= now).ExecuteDeleteAsync(cancellationToken);
        var sessions = await db.Set<AuthSession>().Where(s => s.Expires <= now).ExecuteDeleteAsync(cancellationToken);
        var passkeyChallenges = await db.Set<PasskeyChallenge>().Where(c => c.Expires <= now).ExecuteDeleteAsync(cancellationToken);
        var devices = await EndedSessions.ForgetLeftoverDevicesAsync(db, cancellationToken);
        if (tokens + verify + sessions + passkeyChallenges > 0)
        {
            logger.LogInformation(
                "Purged {AccessTokens} access token(s), {VerifyTokens} verify token(s), {Sessions} session(s) and {PasskeyChallenges} passkey challenge(s) past expiry",
                tokens, verify, sessions, passkeyChallenges);
        }

        if (devices > 0)
        {
            logger.LogInformation("Cleared the device facts of {Sessions} ended session(s) that still held them", devices);
        }
    }
}
