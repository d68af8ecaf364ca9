namespace Pan.Server.Credentials;

/// <summary>The result of checking a password against a stored hash.</summary>
/// <param name="Matches">The password is right.</param>
/// <param name="NeedsRehash">The stored hash uses old parameters or a legacy algorithm: store a fresh Argon2id hash now.</param>
public readonly record struct PasswordCheck(bool Matches, bool NeedsRehash);

/// <summary>
/// Argon2id through libsodium (parameters stored with the hash, configurable), with verification of legacy formats
/// (PBKDF2-SHA1 as apinode stored them, salted double MD5 of the legacy forum). Concurrent hashing is capped at the
/// core count so a burst queues instead of exhausting memory.
/// </summary>
public sealed class PasswordHasher
{
    public Task<string> HashAsync(string password, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");

    public Task<PasswordCheck> VerifyAsync(string password, string storedHash, CancellationToken cancellationToken) =>
        throw new NotImplementedException("credentials helper");
}

/// <summary>Why a new password is refused (NIST SP 800-63B): too short/long, common, or derived from the member's own data.</summary>
public sealed record PasswordProblem(string Reason);

/// <summary>The password rules. Context: the member's phone, email and display name, from which a password may not be derived.</summary>
public sealed class PasswordPolicy
{
    /// <summary>Null when <paramref name="password"/> is acceptable.</summary>
    public PasswordProblem? Check(string? password, IEnumerable<string?> context) =>
        throw new NotImplementedException("credentials helper");
}
