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

/// <summary>When sessions must pass a captcha before codes are sent: off, always, or risk (only when the SMS risk rules trip).</summary>
public enum CaptchaMode
{
    Off,
    Always,
    Risk,
}

/// <summary>Verifies a reCAPTCHA (siteverify) or reCAPTCHA Enterprise (assessments) token over HTTP.</summary>
public sealed class CaptchaVerifier
{
    public CaptchaMode Mode => throw new NotImplementedException("captcha helper");

    /// <summary>True when Google accepts <paramref name="token"/> for <paramref name="platform"/>. Throws DependencyUnavailableException when Google cannot be reached.</summary>
    public Task<bool> VerifyAsync(CaptchaPlatform platform, string token, CancellationToken cancellationToken) =>
        throw new NotImplementedException("captcha helper");
}
