using Microsoft.EntityFrameworkCore;
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
}
