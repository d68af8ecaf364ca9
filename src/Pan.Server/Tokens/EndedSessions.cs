using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Tokens;

namespace Pan.Server.Tokens;

/// <summary>How every path that ends auth sessions writes the end.</summary>
public static class EndedSessions
{
    /// <summary>
    /// Ends the live sessions among <paramref name="sessions"/> at <paramref name="now"/> in one UPDATE, and in the same
    /// statement forgets the device they were opened from (<c>client_ip</c>, <c>user_agent</c>). Returns how many it ended.
    /// </summary>
    /// <remarks>
    /// Why the device facts go at once: they exist to let the member recognise a live sign-in (ListSessions, the
    /// export), and nothing shows an ended session; kept, they would wait in the dead row until the janitor deletes it at
    /// the session's expiry, up to <c>Pan:Tokens:AuthTokenDays</c> later. Why in the same statement: no reader can see
    /// the session ended with its facts still there, and no failure can leave one without the other.
    /// </remarks>
    public static Task<int> EndAsync(this IQueryable<AuthSession> sessions, DateTimeOffset now, CancellationToken cancellationToken) =>
        sessions.Where(s => s.Revoked == null).ExecuteUpdateAsync(
            u => u.SetProperty(s => s.Revoked, now).SetProperty(s => s.ClientIp, (string?)null).SetProperty(s => s.UserAgent, (string?)null),
            cancellationToken);

    /// <summary>Rows the token janitor clears per statement (<see cref="ForgetLeftoverDevicesAsync"/>).</summary>
    public const int ForgetBatch = 1000;

    /// <summary>
    /// Ended sessions that still hold a device fact, in id order: what <see cref="EndAsync"/> would have cleared. Served by
    /// the partial index <c>ix_auth_sessions_ended_with_device</c>, which holds exactly these rows.
    /// </summary>
    public static IQueryable<AuthSession> WithLeftoverDevice(PanDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Set<AuthSession>().Where(s => s.Revoked != null && (s.ClientIp != null || s.UserAgent != null)).OrderBy(s => s.Id);
    }

    /// <summary>
    /// Clears the device facts of ended sessions that still hold them, <see cref="ForgetBatch"/> rows per UPDATE until
    /// none is left. Returns how many rows it cleared.
    /// </summary>
    /// <remarks>
    /// Why: sessions ended by nodes from before <see cref="EndAsync"/> cleared the facts keep them until the janitor
    /// deletes the row at the session's expiry, up to <c>Pan:Tokens:AuthTokenDays</c> later. Why batches: each UPDATE
    /// touches at most <see cref="ForgetBatch"/> rows found by the partial index, so it holds few row locks for a short
    /// while and never scans the table; live sessions are never touched (a session once ended stays ended).
    /// </remarks>
    public static async Task<int> ForgetLeftoverDevicesAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var total = 0;
        int cleared;
        do
        {
            cleared = await WithLeftoverDevice(db).Take(ForgetBatch).ExecuteUpdateAsync(
                u => u.SetProperty(s => s.ClientIp, (string?)null).SetProperty(s => s.UserAgent, (string?)null),
                cancellationToken);
            total += cleared;
        }
        while (cleared == ForgetBatch);

        return total;
    }
}
