namespace Pan.Server.Tokens;

/// <summary>
/// A feature that hands out something on a member's behalf that a logout must end with the session (SECURITY 12): the
/// membership passes. <see cref="TokenService.LogoutAsync"/> calls every one inside the logout's transaction, so the
/// sessions and what they handed out end together or not at all. Register implementations as scoped
/// <c>ILogoutRevoker</c> services.
/// </summary>
public interface ILogoutRevoker
{
    /// <summary>Ends what was handed out for the members of phone (account) <paramref name="accountId"/>, whose sessions are being revoked.</summary>
    Task RevokeAsync(long accountId, CancellationToken cancellationToken);
}
