using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;

namespace Pan.Server.Captcha;

/// <summary>The client platform a captcha token came from; each has its own keys (the seed's UnlockSessionTokenRequest.Platform).</summary>
public enum CaptchaPlatform
{
    Web = 0,
    Ios = 1,
    Android = 2,
    IosEnterprise = 3,
    AndroidEnterprise = 4,
}

/// <summary>When sessions (and email_existed) must pass a captcha: off, always, or risk (only when the risk rules trip).</summary>
public enum CaptchaMode
{
    Off,
    Always,
    Risk,
}

/// <summary>
/// Verifies a reCAPTCHA (siteverify) or reCAPTCHA Enterprise (assessments) token over HTTP. Fails closed: a platform
/// without keys, an empty or oversized token, a low score or an answer it cannot read is a "no"; Google being
/// unreachable, slow or answering with an error status throws <see cref="DependencyUnavailableException"/> (UNAVAILABLE).
/// </summary>
public sealed class CaptchaVerifier(HttpClient http, IOptions<CaptchaOptions> options, ILogger<CaptchaVerifier> logger, Metrics.PanMetrics metrics)
{
    /// <summary>Real tokens are a few KB at most; anything longer is refused without calling Google.</summary>
    public const int MaxTokenLength = 8192;

    public CaptchaMode Mode => options.Value.Mode;

    /// <summary>True when Google accepts <paramref name="token"/> for <paramref name="platform"/>. Throws DependencyUnavailableException when Google cannot be reached.</summary>
    public async Task<bool> VerifyAsync(CaptchaPlatform platform, string token, CancellationToken cancellationToken)
    {
        try
        {
            var passed = await CheckAsync(platform, token, cancellationToken);
            metrics.CaptchaCheck(passed ? "passed" : "refused");
            return passed;
        }
        catch (DependencyUnavailableException)
        {
            metrics.CaptchaCheck("unavailable");
            throw;
        }
    }

    private async Task<bool> CheckAsync(CaptchaPlatform platform, string token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > MaxTokenLength)
        {
            return false;
        }

        var settings = options.Value;
        var keys = settings.Platforms.For(platform);
        if (!CaptchaOptions.IsConfigured(platform, keys))
        {
            logger.LogWarning("A captcha token arrived for {Platform}, which has no keys configured; refusing it", platform);
            return false;
        }

        return CaptchaOptions.IsEnterprise(platform)
            ? await VerifyEnterpriseAsync(platform, keys, token, settings.MinScore, cancellationToken)
            : await VerifyClassicAsync(platform, keys, token, settings.MinScore, cancellationToken);
    }

    private async Task<bool> VerifyClassicAsync(CaptchaPlatform platform, CaptchaPlatformKeys keys, string token, double minScore, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.SiteVerifyUrl)
        {
            Content = new FormUrlEncodedContent([new("secret", keys.Secret!), new("response", token)]),
        };
        var answer = await SendAsync<SiteVerifyAnswer>(request, "siteverify", cancellationToken);
        if (!answer.Success)
        {
            logger.LogInformation("reCAPTCHA refused a {Platform} token: {Errors}", platform, string.Join(",", answer.ErrorCodes ?? []));
            return false;
        }

        // Why: v2 answers carry no score; v3 answers do, and a low one is a "no".
        if (answer.Score is { } score && score < minScore)
        {
            logger.LogInformation("reCAPTCHA {Platform} score {Score} is below {MinScore}", platform, score, minScore);
            return false;
        }

        return true;
    }

    private async Task<bool> VerifyEnterpriseAsync(CaptchaPlatform platform, CaptchaPlatformKeys keys, string token, double minScore, CancellationToken cancellationToken)
    {
        var url = new Uri(options.Value.EnterpriseBaseUrl, string.Create(CultureInfo.InvariantCulture,
            $"v1/projects/{Uri.EscapeDataString(keys.ProjectId!)}/assessments?key={Uri.EscapeDataString(keys.ApiKey!)}"));
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = JsonContent.Create(new AssessmentRequest(new AssessmentEvent(token, keys.SiteKey!))),
        };
        var answer = await SendAsync<AssessmentAnswer>(request, "assessments", cancellationToken);
        if (answer.TokenProperties?.Valid != true)
        {
            logger.LogInformation("reCAPTCHA Enterprise refused a {Platform} token: {Reason}", platform, answer.TokenProperties?.InvalidReason);
            return false;
        }

        var score = answer.RiskAnalysis?.Score ?? 0;
        if (score < minScore)
        {
            logger.LogInformation("reCAPTCHA Enterprise {Platform} score {Score} is below {MinScore}", platform, score, minScore);
            return false;
        }

        return true;
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, string api, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                // Why: 4xx here means our keys or request are wrong (not the user's token) — as unusable as an outage, and loud.
                logger.LogError("reCAPTCHA {Api} answered HTTP {Status}", api, (int)response.StatusCode);
                throw new DependencyUnavailableException($"reCAPTCHA {api} answered HTTP {(int)response.StatusCode}.");
            }

            return await response.Content.ReadFromJsonAsync<T>(cancellationToken)
                ?? throw new DependencyUnavailableException($"reCAPTCHA {api} sent an empty answer.");
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning(ex, "reCAPTCHA {Api} is unreachable", api);
            throw new DependencyUnavailableException($"reCAPTCHA {api} is unreachable.", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("reCAPTCHA {Api} did not answer in time", api);
            throw new DependencyUnavailableException($"reCAPTCHA {api} did not answer in time.", ex);
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "reCAPTCHA {Api} sent an answer that is not the expected JSON", api);
            throw new DependencyUnavailableException($"reCAPTCHA {api} sent an unreadable answer.", ex);
        }
    }

    private sealed record SiteVerifyAnswer(
        [property: JsonPropertyName("success")] bool Success,
        [property: JsonPropertyName("score")] double? Score,
        [property: JsonPropertyName("action")] string? Action,
        [property: JsonPropertyName("hostname")] string? Hostname,
        [property: JsonPropertyName("error-codes")] string[]? ErrorCodes);

    private sealed record AssessmentRequest([property: JsonPropertyName("event")] AssessmentEvent Event);

    private sealed record AssessmentEvent(
        [property: JsonPropertyName("token")] string Token,
        [property: JsonPropertyName("siteKey")] string SiteKey);

    private sealed record AssessmentAnswer(
        [property: JsonPropertyName("tokenProperties")] TokenProperties? TokenProperties,
        [property: JsonPropertyName("riskAnalysis")] RiskAnalysis? RiskAnalysis);

    private sealed record TokenProperties(
        [property: JsonPropertyName("valid")] bool Valid,
        [property: JsonPropertyName("invalidReason")] string? InvalidReason);

    private sealed record RiskAnalysis([property: JsonPropertyName("score")] double? Score);
}
