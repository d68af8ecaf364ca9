using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Pan.Server.Captcha;

/// <summary>The keys of one client platform: Secret for classic reCAPTCHA; SiteKey, ProjectId and ApiKey for Enterprise.</summary>
public sealed class CaptchaPlatformKeys
{
    /// <summary>Classic reCAPTCHA secret key (WEB, IOS, ANDROID).</summary>
    public string? Secret { get; set; }

    /// <summary>The site key the client used (Enterprise: sent with the token; classic: informational).</summary>
    public string? SiteKey { get; set; }

    /// <summary>Google Cloud project id (Enterprise).</summary>
    public string? ProjectId { get; set; }

    /// <summary>API key allowed to call the reCAPTCHA Enterprise API (Enterprise).</summary>
    public string? ApiKey { get; set; }
}

/// <summary>Per-platform keys, bound from <c>Pan:Captcha:Platforms:{Web|Ios|Android|IosEnterprise|AndroidEnterprise}</c>.</summary>
public sealed class CaptchaPlatforms
{
    public CaptchaPlatformKeys Web { get; set; } = new();

    public CaptchaPlatformKeys Ios { get; set; } = new();

    public CaptchaPlatformKeys Android { get; set; } = new();

    public CaptchaPlatformKeys IosEnterprise { get; set; } = new();

    public CaptchaPlatformKeys AndroidEnterprise { get; set; } = new();

    public CaptchaPlatformKeys For(CaptchaPlatform platform) => platform switch
    {
        CaptchaPlatform.Web => Web,
        CaptchaPlatform.Ios => Ios,
        CaptchaPlatform.Android => Android,
        CaptchaPlatform.IosEnterprise => IosEnterprise,
        CaptchaPlatform.AndroidEnterprise => AndroidEnterprise,
        _ => throw new ArgumentOutOfRangeException(nameof(platform), platform, "Unknown captcha platform."),
    };
}

/// <summary>
/// <c>Pan:Captcha:*</c>. <see cref="Mode"/> defaults to <c>off</c> in every environment (Why: a deployment must obtain
/// Google keys before it can turn captcha on; the server logs a warning at start-up when it runs outside Development
/// with captcha off). <c>always</c> or <c>risk</c> need the keys of at least one platform, or the server does not start.
/// </summary>
public sealed class CaptchaOptions
{
    public const string Section = "Pan:Captcha";

    /// <summary>
    /// off (default), always (every sign-in/registration session and every email_existed call), or risk (only when the
    /// SMS risk rules, or email_existed's per-address threshold, trip).
    /// </summary>
    public CaptchaMode Mode { get; set; } = CaptchaMode.Off;

    /// <summary>Classic reCAPTCHA verification endpoint.</summary>
    [Required]
    public Uri SiteVerifyUrl { get; set; } = new("https://www.google.com/recaptcha/api/siteverify");

    /// <summary>Base URL of the reCAPTCHA Enterprise API.</summary>
    [Required]
    public Uri EnterpriseBaseUrl { get; set; } = new("https://recaptchaenterprise.googleapis.com");

    /// <summary>Lowest acceptable score (0.0 bot … 1.0 human) for Enterprise and for classic v3 answers that carry a score.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Pan:Captcha:MinScore must be between 0.0 and 1.0.")]
    public double MinScore { get; set; } = 0.5;

    /// <summary>How long to wait for Google before failing closed with UNAVAILABLE, in seconds (default 5).</summary>
    [Range(0.05, 60, ErrorMessage = "Pan:Captcha:TimeoutSeconds must be between 0.05 and 60.")]
    public double TimeoutSeconds { get; set; } = 5;

    public CaptchaPlatforms Platforms { get; set; } = new();

    /// <summary>True when the platform has every key its protocol needs.</summary>
    public static bool IsConfigured(CaptchaPlatform platform, CaptchaPlatformKeys keys) => IsEnterprise(platform)
        ? !string.IsNullOrWhiteSpace(keys.SiteKey) && !string.IsNullOrWhiteSpace(keys.ProjectId) && !string.IsNullOrWhiteSpace(keys.ApiKey)
        : !string.IsNullOrWhiteSpace(keys.Secret);

    public static bool IsEnterprise(CaptchaPlatform platform) => platform is CaptchaPlatform.IosEnterprise or CaptchaPlatform.AndroidEnterprise;
}

/// <summary>Rules spanning several captcha settings, checked at start-up.</summary>
internal sealed class CaptchaOptionsValidator : IValidateOptions<CaptchaOptions>
{
    public ValidateOptionsResult Validate(string? name, CaptchaOptions options)
    {
        var failures = new List<string>();
        foreach (var platform in Enum.GetValues<CaptchaPlatform>())
        {
            var keys = options.Platforms.For(platform);
            var any = !string.IsNullOrWhiteSpace(keys.Secret) || !string.IsNullOrWhiteSpace(keys.SiteKey)
                || !string.IsNullOrWhiteSpace(keys.ProjectId) || !string.IsNullOrWhiteSpace(keys.ApiKey);
            if (any && !CaptchaOptions.IsConfigured(platform, keys))
            {
                failures.Add(CaptchaOptions.IsEnterprise(platform)
                    ? $"Pan:Captcha:Platforms:{platform} needs SiteKey, ProjectId and ApiKey (reCAPTCHA Enterprise)."
                    : $"Pan:Captcha:Platforms:{platform}:Secret is required when other keys of that platform are set (classic reCAPTCHA).");
            }
        }

        if (options.Mode != CaptchaMode.Off && !Enum.GetValues<CaptchaPlatform>().Any(p => CaptchaOptions.IsConfigured(p, options.Platforms.For(p))))
        {
            failures.Add($"Pan:Captcha:Mode is '{options.Mode.ToString().ToLowerInvariant()}' but no platform has keys: set " +
                "Pan:Captcha:Platforms:Web:Secret (classic reCAPTCHA) or Pan:Captcha:Platforms:{IosEnterprise|AndroidEnterprise}:{SiteKey,ProjectId,ApiKey}, " +
                "or set Pan:Captcha:Mode to 'off'.");
        }

        // Why the Web keys are required whenever captcha is on, Enterprise keys notwithstanding: Register,
        // VerifyMemberByPassword and the AuthReset* requests carry no platform, so their tokens are checked with the Web
        // (classic) keys. Without them every one of those calls would be refused as a failed captcha.
        else if (options.Mode != CaptchaMode.Off && !CaptchaOptions.IsConfigured(CaptchaPlatform.Web, options.Platforms.Web))
        {
            failures.Add($"Pan:Captcha:Mode is '{options.Mode.ToString().ToLowerInvariant()}' but Pan:Captcha:Platforms:Web:Secret is not set: " +
                "Register, VerifyMemberByPassword and the AuthReset* requests carry no platform and are checked with the Web (classic) keys. " +
                "Set it, or set Pan:Captcha:Mode to 'off'.");
        }

        foreach (var (setting, uri) in new[] { ("SiteVerifyUrl", options.SiteVerifyUrl), ("EnterpriseBaseUrl", options.EnterpriseBaseUrl) })
        {
            if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                failures.Add($"Pan:Captcha:{setting} must be an absolute http(s) URL.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
