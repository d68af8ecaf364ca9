using MimeKit;

namespace Pan.Server.Email;

/// <summary>
/// Development only: writes the plain-text body to the log instead of sending it, so a developer can read the code.
/// Start-up refuses <c>Pan:Email:Provider=console</c> in any other environment.
/// </summary>
public sealed class ConsoleEmailTransport(IHostEnvironment environment, ILogger<ConsoleEmailTransport> logger) : IEmailTransport
{
    public Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        // Why: the body carries a code or a link token; it may reach the log only on a developer's machine.
        if (environment.IsDevelopment())
        {
            logger.LogInformation("Development email to {To}: {Subject}\n{Body}", message.To.ToString(), message.Subject, message.TextBody);
        }
        else
        {
            logger.LogWarning("Console email provider outside Development: message dropped");
        }

        return Task.CompletedTask;
    }
}
