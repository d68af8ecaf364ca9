namespace Pan.Server.Tokens;

/// <summary>
/// A feature that hands out something on a member's behalf that must end with the member's sessions (SECURITY 12): the
/// membership passes. <see cref="TokenService"/> calls every one inside the transaction that ends the sessions — a
/// logout (<see cref="TokenService.LogoutAsync"/>) and every revocation of a member's or a phone's sessions (a password
/// change or reset, a move under a phone, a phone validation, a deletion, a social-login refresh family ended for a
/// reused token) —, so the sessions and what they handed out end together or not at all. Register implementations as
/// scoped <c>ILogoutRevoker</c> services.
/// </summary>
public interface ILogoutRevoker
{
    /// <summary>
    /// A logout: ends what was handed out for the members of phone (account) <paramref name="accountId"/>, one of whose
    /// phone-level sessions is being revoked (such a session may speak for any member of the phone).
    /// </summary>
    Task RevokeAsync(long accountId, CancellationToken cancellationToken);

    /// <summary>
    /// The server is ending sessions of the members <paramref name="uids"/> (also a logout of sessions that each spoke
    /// for their own member alone): ends what was handed out for those members.
    /// </summary>
    Task RevokeMembersAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken);
}
