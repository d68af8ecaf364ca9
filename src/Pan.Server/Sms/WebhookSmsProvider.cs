using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>
/// The generic HTTP provider: <c>POST {"to":"+886912345678","text":"…"}</c> to <c>Pan:Sms:Webhook:Url</c>. Any 2xx is
/// success. A 5xx, a timeout or a connection error is retried with exponential backoff; a 4xx is not (the request
/// itself is wrong). Giving up throws <see cref="DependencyUnavailableException"/>.
/// </summary>
public sealed class WebhookSmsProvider(
    IHttpClientFactory httpClients,
    IOptions<SmsWebhookOptions> options,
    ILogger<WebhookSmsProvider> logger) : ISmsProvider
{
    public const string Name = "webhook";

    /// <summary>The named <see cref="HttpClient"/> the webhook is called with.</summary>
    public const string HttpClientName = "Pan.Sms.Webhook";

    public async Task SendAsync(PhoneNumber to, string text, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var client = httpClients.CreateClient(HttpClientName);
        for (var attempt = 0; ; attempt++)
        {
            var failure = await TryOnceAsync(client, settings, to, text, cancellationToken);
            if (failure is null)
            {
                return;
            }

            if (!failure.Retryable || attempt >= settings.Retries)
            {
                logger.LogWarning(failure.Exception, "SMS webhook gave up on number ending {PhoneSuffix} after {Attempts} attempt(s): {Failure}",
                    to.Suffix, attempt + 1, failure.Description);
                throw new DependencyUnavailableException($"The SMS webhook failed: {failure.Description}.", failure.Exception);
            }

            logger.LogInformation("SMS webhook attempt {Attempt} failed ({Failure}); retrying", attempt + 1, failure.Description);
            // Why: backoff and timeouts are network waits, not business time; they use the system clock so that a
            // frozen test clock (FakeTimeProvider) cannot stall a send.
            await Task.Delay(Backoff(settings, attempt), TimeProvider.System, cancellationToken);
        }
    }

    private static async Task<Failure?> TryOnceAsync(HttpClient client, SmsWebhookOptions settings, PhoneNumber to, string text, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.TimeoutSeconds), TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url)
        {
            Content = JsonContent.Create(new WebhookMessage(to.E164, text)),
        };
        if (!string.IsNullOrEmpty(settings.AuthorizationHeader))
        {
            request.Headers.TryAddWithoutValidation("Authorization", settings.AuthorizationHeader);
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            if (response.IsSuccessStatusCode)
            {
                return null;
            }

            var status = (int)response.StatusCode;
            return new Failure(status >= 500, $"HTTP {status}", null);
        }
        catch (HttpRequestException ex)
        {
            return new Failure(true, "connection error", ex);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new Failure(true, $"no answer within {settings.TimeoutSeconds} s", ex);
        }
    }

    private static TimeSpan Backoff(SmsWebhookOptions settings, int attempt)
    {
        var jitterPercent = RandomNumberGenerator.GetInt32(80, 121);
        var milliseconds = settings.RetryDelayMilliseconds * Math.Pow(2, attempt) * jitterPercent / 100;
        return TimeSpan.FromMilliseconds(milliseconds);
    }

    private sealed record Failure(bool Retryable, string Description, Exception? Exception);

    private sealed record WebhookMessage(
        [property: JsonPropertyName("to")] string To,
        [property: JsonPropertyName("text")] string Text);
}
