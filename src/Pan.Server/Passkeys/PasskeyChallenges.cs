using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Passkeys;
using Pan.Server.Tokens;

namespace Pan.Server.Passkeys;

/// <summary>
/// Begun passkey ceremonies in the database (table <c>passkey_challenges</c>), so that any node finishes what another
/// began. Each is named by an opaque id stored hashed, lives <see cref="PasskeyOptions.ChallengeLifetime"/>, and is
/// spent by the first finish that names it, whatever that finish's outcome.
/// </summary>
public sealed class PasskeyChallenges(PanDbContext db, TimeProvider clock)
{
    /// <summary>Stores the options of a begun ceremony (in the caller's transaction, if any); returns its opaque id.</summary>
    public async Task<string> StartAsync(string kind, long? uid, string optionsJson, CancellationToken cancellationToken)
    {
        var (id, hash) = OpaqueTokens.Create();
        db.Add(new PasskeyChallenge { Hash = hash, Kind = kind, Uid = uid, OptionsJson = optionsJson, Expires = clock.GetUtcNow() + PasskeyOptions.ChallengeLifetime });
        await db.SaveChangesAsync(cancellationToken);
        return id;
    }

    /// <summary>
    /// Spends the live ceremony <paramref name="id"/> of <paramref name="kind"/> (a registration: of member
    /// <paramref name="uid"/> only) and returns its options; null when there is none (unknown, spent, expired, another
    /// member's). Why one DELETE … RETURNING: of many finishes of one ceremony, on any nodes, exactly one gets it.
    /// </summary>
    public async Task<string?> SpendAsync(string id, string kind, long? uid, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(id) is not { } hash)
        {
            return null;
        }

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = await (uid is { } member
            ? db.Database.SqlQuery<string>($"""
                DELETE FROM passkey_challenges WHERE hash = {hash} AND kind = {kind} AND uid = {member} AND expires > {now}
                RETURNING options_json AS "Value"
                """)
            : db.Database.SqlQuery<string>($"""
                DELETE FROM passkey_challenges WHERE hash = {hash} AND kind = {kind} AND expires > {now}
                RETURNING options_json AS "Value"
                """)).ToListAsync(cancellationToken);
        return rows.SingleOrDefault();
    }
}
