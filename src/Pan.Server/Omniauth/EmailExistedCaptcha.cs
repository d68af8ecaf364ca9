using System.Globalization;
using Microsoft.Extensions.Options;
using Pan.Server.Captcha;
using Pan.Server.Errors;

namespace Pan.Server.Omniauth;

/// <summary>
/// The captcha step of <c>email_existed</c> (SECURITY 15), following <c>Pan:Captcha:Mode</c> like the phone flows:
/// off never asks; always asks on every call; risk asks once the caller's address made more than
/// <c>Pan:Omniauth:EmailExisted:CaptchaAfterPerIpPerHour</c> calls this hour (counted in the rate limit's per-address
/// window, shared by every node). A token is verified over HTTP by <see cref="CaptchaVerifier"/>; it is ignored when
/// no captcha is needed.
/// </summary>
public sealed class EmailExistedCaptcha(CaptchaVerifier verifier, IOptions<OmniauthOptions> options)
{
    public const string TokenParameter = "recaptcha_token";

    public const string PlatformParameter = "recaptcha_platform";

    /// <summary>The accepted <c>recaptcha_platform</c> values: the seed's UnlockSessionTokenRequest.Platform names in lower case.</summary>
    private static readonly Dictionary<string, CaptchaPlatform> Platforms = new(StringComparer.OrdinalIgnoreCase)
    {
        ["web"] = CaptchaPlatform.Web,
        ["ios"] = CaptchaPlatform.Ios,
        ["android"] = CaptchaPlatform.Android,
        ["ios_enterprise"] = CaptchaPlatform.IosEnterprise,
        ["android_enterprise"] = CaptchaPlatform.AndroidEnterprise,
    };

    /// <summary>
    /// <c>recaptcha_platform</c>: absent is web; a name (case-insensitive) or the seed's number 0–4; anything else is
    /// a 400 naming the parameter.
    /// </summary>
    public static CaptchaPlatform ParsePlatform(string? value)
    {
        if (value is null)
        {
            return CaptchaPlatform.Web;
        }

        if (Platforms.TryGetValue(value, out var platform))
        {
            return platform;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && Enum.IsDefined((CaptchaPlatform)number))
        {
            return (CaptchaPlatform)number;
        }

        throw OmniauthException.BadParameter(PlatformParameter, "must be one of " + string.Join(", ", Platforms.Keys));
    }

    /// <summary>
    /// Returns when the call may be answered; otherwise throws 1100 (no token, or a token reCAPTCHA refused) or a 503
    /// when reCAPTCHA cannot be asked (fail closed).
    /// </summary>
    /// <param name="callsFromAddress">The per-address window's count including this call.</param>
    public async Task CheckAsync(int callsFromAddress, CaptchaPlatform platform, string? token, CancellationToken cancellationToken)
    {
        var needed = verifier.Mode switch
        {
            CaptchaMode.Always => true,
            CaptchaMode.Risk => callsFromAddress > options.Value.EmailExisted.CaptchaAfterPerIpPerHour,
            _ => false,
        };
        if (!needed)
        {
            return;
        }

        if (token is null)
        {
            throw OmniauthException.CaptchaRequired();
        }

        bool passed;
        try
        {
            passed = await verifier.VerifyAsync(platform, token, cancellationToken);
        }
        catch (DependencyUnavailableException)
        {
            // Why: the verifier has logged the outage; the caller gets a 503 and no answer about the email.
            throw OmniauthException.CaptchaUnavailable();
        }

        if (!passed)
        {
            throw OmniauthException.CaptchaFailed();
        }
    }
}
