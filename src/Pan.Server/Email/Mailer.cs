using Microsoft.Extensions.Options;
using MimeKit;

namespace Pan.Server.Email;

/// <summary>
/// Renders a mail (<see cref="EmailTemplates"/>) into a multipart/alternative message from <c>Pan:Email:Smtp:From</c>
/// and hands it to the configured transport. A transport that gives up throws
/// <see cref="Errors.DependencyUnavailableException"/>; nothing is lost silently. Logs the kind and the recipient's
/// domain only.
/// </summary>
public sealed class Mailer(IEmailTransport transport, IOptions<SmtpOptions> smtp, ILogger<Mailer> logger, Metrics.PanMetrics metrics)
{
    public async Task SendAsync(string to, string? displayName, string? locale, EmailKind kind, EmailModel model, CancellationToken cancellationToken)
    {
        var rendered = EmailTemplates.Render(kind, locale, model);
        var message = new MimeMessage();
        message.From.Add(From());
        message.To.Add(new MailboxAddress(displayName ?? string.Empty, to));
        message.Subject = rendered.Subject;
        // Why: tells mail servers and auto-responders this is machine-sent (RFC 3834), so they do not reply to it.
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Body = new BodyBuilder { TextBody = rendered.Text, HtmlBody = rendered.Html }.ToMessageBody();
        try
        {
            await transport.SendAsync(message, cancellationToken);
        }
        catch (Errors.DependencyUnavailableException)
        {
            metrics.EmailSend("failed");
            throw;
        }

        metrics.EmailSend("sent");
        logger.LogInformation("Sent a {Kind} email to a {Domain} address", kind, EmailAddresses.DomainOf(to));
    }

    private MailboxAddress From() =>
        !string.IsNullOrWhiteSpace(smtp.Value.From) && MailboxAddress.TryParse(smtp.Value.From, out var from)
            ? from
            : new MailboxAddress("Pan", "no-reply@pan.invalid");
}
