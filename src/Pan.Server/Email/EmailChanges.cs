namespace Pan.Server.Email;

/// <summary>The outcome of asking to set or change a member's email.</summary>
public enum EmailChangeResult
{
    Sent,
    Taken,
    InvalidEmail,
    RedirectNotAllowed,
}

/// <summary>
/// Setting or changing a member's email: checks it is free (case-insensitive, enforced by a unique index), records it
/// as unverified, and mails a verification code and link built from the configured public base URL.
/// </summary>
public sealed class EmailChanges
{
    public Task<EmailChangeResult> RequestAsync(long uid, string email, string? redirect, CancellationToken cancellationToken) =>
        throw new NotImplementedException("email helper");
}
