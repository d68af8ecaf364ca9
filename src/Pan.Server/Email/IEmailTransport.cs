using MimeKit;

namespace Pan.Server.Email;

/// <summary>
/// Delivers one built message. Either returns (the relay accepted it) or throws
/// <see cref="Errors.DependencyUnavailableException"/> once it has given up (after its own retries), which reaches
/// callers as UNAVAILABLE. Implementations never log a body (it carries codes and links) nor a whole address.
/// </summary>
public interface IEmailTransport
{
    Task SendAsync(MimeMessage message, CancellationToken cancellationToken);
}
