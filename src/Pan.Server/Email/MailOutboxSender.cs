using Microsoft.Extensions.Options;
using Pan.Data.Email;
using Pan.Server.Outbox;

namespace Pan.Server.Email;

/// <summary>
/// Sends queued mail (<c>mail_outbox</c>) through the <see cref="Mailer"/>: claim, lease, retry and give-up as every
/// outbox does (<see cref="OutboxSender{TEntry}"/>).
/// </summary>
public sealed class MailOutboxSender(
    IServiceScopeFactory scopes,
    Mailer mailer,
    TimeProvider clock,
    IOptions<MailOutboxOptions> options,
    IOptions<SmtpOptions> smtp,
    ILogger<MailOutboxSender> logger)
    : OutboxSender<MailOutboxEntry>(scopes, clock, options.Value, "mail", logger)
{
    protected override async Task<OutboxDelivery> DeliverAsync(IServiceProvider services, MailOutboxEntry row, string payload, CancellationToken cancellationToken)
    {
        var mail = MailOutboxPayload.Parse(payload);
        await mailer.SendAsync(mail.To, mail.DisplayName, mail.Locale, Enum.Parse<EmailKind>(row.Kind), mail.Model(), cancellationToken);
        return OutboxDelivery.Sent;
    }

    /// <summary>One whole SMTP send with its retries (<see cref="OutboxSender{TEntry}.LeaseFor"/>).</summary>
    protected override TimeSpan Lease() => LeaseFor(smtp.Value.TimeoutSeconds, smtp.Value.Retries, smtp.Value.RetryDelayMilliseconds);
}
