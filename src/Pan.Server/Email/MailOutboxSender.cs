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

    /// <summary>
    /// One whole send — every SMTP attempt at its time limit, the backoffs between them at their longest — plus a
    /// minute for rendering and the database.
    /// </summary>
    protected override TimeSpan Lease()
    {
        var s = smtp.Value;
        var attempts = TimeSpan.FromSeconds((double)s.TimeoutSeconds * (s.Retries + 1));
        var backoffs = TimeSpan.FromMilliseconds(s.RetryDelayMilliseconds * (Math.Pow(2, s.Retries) - 1) * 1.2);
        return attempts + backoffs + TimeSpan.FromMinutes(1);
    }
}
