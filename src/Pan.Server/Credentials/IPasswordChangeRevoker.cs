namespace Pan.Server.Credentials;

/// <summary>
/// A feature that hands out access on a member's behalf outside Pan's own sessions (OAuth grants to apps) and must end
/// it when the member's password is changed or reset (SECURITY 4 and 12). <see cref="CredentialStore.EndOtherSessionsAsync"/>
/// calls every one inside the credential change's transaction, so the new password and the revocation commit together
/// or not at all. Register implementations as scoped <c>IPasswordChangeRevoker</c> services.
/// </summary>
public interface IPasswordChangeRevoker
{
    /// <summary>Revokes what was handed out for member <paramref name="uid"/> (that member only: passwords are per member).</summary>
    Task RevokeAsync(long uid, CancellationToken cancellationToken);
}
