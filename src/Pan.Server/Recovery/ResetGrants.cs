using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Tokens;
using Pan.Server.Tokens;

namespace Pan.Server.Recovery;

/// <summary>How a member proved control for a reset: the verify-token purpose of their auth_reset_token.</summary>
public static class ResetChannels
{
    public const string Email = "reset-email";
    public const string Phone = "reset-phone";
}

/// <summary>A live auth_reset_token: whose password it may reset, and how the member proved control.</summary>
public sealed record ResetGrant(long Uid, string Channel);

/// <summary>
/// auth_reset_token: a TokenService verify token (256-bit, stored hashed, single-use, <c>Pan:Tokens:VerifyTokenMinutes</c>)
/// bound to the member and to the channel that proved control. AuthResetUpdate reads it first (to check the new
/// password against the member), then consumes it with one conditional UPDATE inside the reset's transaction, so of
/// parallel uses exactly one wins.
/// </summary>
public sealed class ResetGrants(PanDbContext db, TokenService tokens, TimeProvider clock)
{
    /// <summary>
    /// Stores a grant for member <paramref name="uid"/>. Call it in a transaction that holds the member first
    /// (<see cref="Deletion.LiveMembers.HoldAsync"/>), so that a grant never outlives the member's deletion.
    /// </summary>
    public async Task<string> IssueAsync(long uid, string channel, CancellationToken cancellationToken) =>
        (await tokens.IssueVerifyTokenAsync(uid, channel, cancellationToken)).Token;

    /// <summary>The grant behind a live (unused, unexpired) token of a live member, or null.</summary>
    public async Task<ResetGrant?> FindAsync(string? token, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(token) is not { } hash)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        return await db.Set<StoredVerifyToken>().AsNoTracking()
            .Where(t => t.Hash == hash && t.UsedAt == null && t.Expires > now && (t.Purpose == ResetChannels.Email || t.Purpose == ResetChannels.Phone)
                && db.Members.Any(m => m.Uid == t.Uid && m.Deleted == null))
            .Select(t => new ResetGrant(t.Uid, t.Purpose))
            .FirstOrDefaultAsync(cancellationToken);
    }

    public Task<bool> ConsumeAsync(string token, ResetGrant grant, CancellationToken cancellationToken) =>
        tokens.ConsumeVerifyTokenAsync(token, grant.Uid, grant.Channel, cancellationToken);
}
