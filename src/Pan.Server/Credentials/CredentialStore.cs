namespace Pan.Server.Credentials;

/// <summary>What a member has set (the seed's QueryMemberCredentialStatusResponse).</summary>
public sealed record CredentialStatus(bool HasPassword, bool HasEmail, bool HasSecurityQuestion, bool EmailVerified);

/// <summary>How a password or security-answer attempt went. Locked answers exactly like Wrong to the caller.</summary>
public enum SecretCheck
{
    Ok,
    Wrong,
    Locked,
    NotSet,
}

/// <summary>
/// A member's password and security question, stored hashed; every check goes through the account failure counter
/// (progressive delay, then lock) and re-hashes legacy or outdated hashes on success.
/// </summary>
public sealed class CredentialStore
{
    public Task<CredentialStatus> StatusAsync(long uid, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");

    /// <summary>Sets a new password (already checked against the policy) and ends the member's other sessions.</summary>
    public Task SetPasswordAsync(long uid, string password, long? keepSessionId, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");

    public Task<SecretCheck> CheckPasswordAsync(long uid, string password, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");

    /// <summary>The member's security question text, or null when none is set.</summary>
    public Task<string?> SecurityQuestionAsync(long uid, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");

    public Task SetSecurityQuestionAsync(long uid, string question, string answer, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");

    public Task<SecretCheck> CheckSecurityAnswerAsync(long uid, string answer, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");
}
