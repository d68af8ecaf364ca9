using System.Net.Sockets;
using System.Security.Cryptography;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Pan.Server.Errors;

namespace Pan.Server.Email;

/// <summary>
/// Sends through an SMTP relay with MailKit: one connection per message (connect, optional STARTTLS/TLS, optional
/// authentication, send, quit). A connection error, a timeout or a 4xx answer is retried with exponential backoff; a
/// 5xx answer or a refused login is not. Giving up throws <see cref="DependencyUnavailableException"/>.
/// </summary>
public sealed class SmtpEmailTransport(IOptions<SmtpOptions> options, ILogger<SmtpEmailTransport> logger) : IEmailTransport
{
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var domain = message.To.Mailboxes.Select(m => m.Domain).FirstOrDefault() ?? "?";
        for (var attempt = 0; ; attempt++)
        {
            var failure = await TryOnceAsync(settings, message, cancellationToken);
            if (failure is null)
            {
                logger.LogInformation("SMTP relay accepted a message to {Domain} (attempt {Attempt})", domain, attempt + 1);
                return;
            }

            if (!failure.Retryable || attempt >= settings.Retries)
            {
                logger.LogWarning(failure.Exception, "SMTP gave up on a message to {Domain} after {Attempts} attempt(s): {Failure}",
                    domain, attempt + 1, failure.Description);
                throw new DependencyUnavailableException($"The SMTP relay failed: {failure.Description}.", failure.Exception);
            }

            logger.LogInformation("SMTP attempt {Attempt} failed ({Failure}); retrying", attempt + 1, failure.Description);
            // Why: backoff is a network wait, not business time; a frozen test clock must not stall a send.
            await Task.Delay(Backoff(settings, attempt), TimeProvider.System, cancellationToken);
        }
    }

    private static async Task<Failure?> TryOnceAsync(SmtpOptions settings, MimeMessage message, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.TimeoutSeconds), TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var client = new SmtpClient { Timeout = settings.TimeoutSeconds * 1000 };
        try
        {
            await client.ConnectAsync(settings.Host!, settings.Port, Map(settings.Security), linked.Token);
            if (!string.IsNullOrEmpty(settings.Username))
            {
                await client.AuthenticateAsync(settings.Username, settings.Password ?? string.Empty, linked.Token);
            }

            await client.SendAsync(message, linked.Token);
            await client.DisconnectAsync(quit: true, linked.Token);
            return null;
        }
        catch (SmtpCommandException ex)
        {
            // Why no exception: the relay's answer text often quotes the recipient's address, which stays out of logs.
            var status = (int)ex.StatusCode;
            return new Failure(status is >= 400 and < 500, $"SMTP {status} ({ex.ErrorCode})", null);
        }
        catch (AuthenticationException ex)
        {
            return new Failure(false, "the relay refused the credentials", ex);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new Failure(true, $"no answer within {settings.TimeoutSeconds} s", ex);
        }
        catch (Exception ex) when (ex is SocketException or IOException or SmtpProtocolException or SslHandshakeException
            or ServiceNotConnectedException or TimeoutException)
        {
            return new Failure(true, "connection error", ex);
        }
    }

    private static SecureSocketOptions Map(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.Auto,
    };

    private static TimeSpan Backoff(SmtpOptions settings, int attempt)
    {
        var jitterPercent = RandomNumberGenerator.GetInt32(80, 121);
        return TimeSpan.FromMilliseconds(settings.RetryDelayMilliseconds * Math.Pow(2, attempt) * jitterPercent / 100);
    }

    private sealed record Failure(bool Retryable, string Description, Exception? Exception);
}
