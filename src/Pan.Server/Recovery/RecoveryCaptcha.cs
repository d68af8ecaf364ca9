using Pan.Server.Captcha;

namespace Pan.Server.Recovery;

/// <summary>
/// The captcha of the recovery requests: with <c>Pan:Captcha:Mode</c> other than off, <c>recaptcha_token</c> must be
/// accepted by Google. The requests carry no platform, so the token is checked with the Web (classic) keys.
/// </summary>
public sealed class RecoveryCaptcha(CaptchaVerifier verifier)
{
    public async Task<bool> PassesAsync(string? token, CancellationToken cancellationToken) =>
        verifier.Mode == CaptchaMode.Off
        || (!string.IsNullOrWhiteSpace(token) && await verifier.VerifyAsync(CaptchaPlatform.Web, token, cancellationToken));
}
