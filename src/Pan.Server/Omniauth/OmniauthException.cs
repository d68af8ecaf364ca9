using System.Text.Json.Nodes;

namespace Pan.Server.Omniauth;

/// <summary>
/// A failure of the social-login API, answered with the seed's envelope <c>{"code":N,"message":"…"}</c>. The HTTP
/// status is the code itself when it is an HTTP status (400, 403, 429, 503) and the nearest HTTP status for the
/// member center's own codes (4025 → 422, 4026 and Pan's 4030 → 403, 4028 and 4006 → 409) and for Pan's captcha code (1100 → 403),
/// so clients that only look at the body (as with the original) and clients that look at the status both work.
/// </summary>
public sealed class OmniauthException(int status, int code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public int Code { get; } = code;

    /// <summary>Seconds until the caller may retry (the Retry-After header), for 429.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static OmniauthException NotAuthorizedClient() => new(403, 403, "Not authorized client");

    /// <summary>The provider rejected the token, or the provider inputs do not fit together (the seed's spelling).</summary>
    public static OmniauthException AuthorizationFailed() => new(403, 403, "Authorication failed");

    public static OmniauthException EmailNotAvailable() => new(422, 4025, "Email not available");

    public static OmniauthException InvalidPassword() => new(403, 4026, "Invalid password");

    public static OmniauthException PasswordRequired() => new(409, 4028, "Email already taken, password required");

    public static OmniauthException AlreadyBound() => new(409, 4006, "Already bound");

    /// <summary>
    /// The provider user (and, when binding, the password) is proven but its member is suspended (a Pan extension, see
    /// <see cref="Suspension.MemberSuspensions"/>); nothing is issued or written. 4030 follows the member center's
    /// 40xx codes; the document has no code for it.
    /// </summary>
    public static OmniauthException MemberSuspended() => new(403, 4030, "Member suspended");

    public static OmniauthException TokenGenerationFailed() => new(400, 400, "Token generation failed");

    public static OmniauthException InvalidRefreshToken() => new(403, 403, "Invalid refresh token");

    /// <summary>A missing or malformed parameter, named in the message.</summary>
    public static OmniauthException BadParameter(string name, string problem) => new(400, 400, $"Invalid parameter {name}: {problem}");

    public static OmniauthException TooManyRequests(int retryAfterSeconds) =>
        new(429, 429, "Too many requests") { RetryAfterSeconds = retryAfterSeconds };

    /// <summary>
    /// email_existed needed a captcha and got no token. 1100 is Pan's GENERAL_RECAPTCHA_FAILED (seed 000); the member
    /// center's document has no captcha code of its own.
    /// </summary>
    public static OmniauthException CaptchaRequired() => new(403, 1100, "Captcha required");

    /// <summary>email_existed needed a captcha and reCAPTCHA did not accept the token (forged, reused, expired, low score).</summary>
    public static OmniauthException CaptchaFailed() => new(403, 1100, "Captcha failed");

    /// <summary>reCAPTCHA could not be asked (unreachable, slow, an error status): fail closed, nothing is answered.</summary>
    public static OmniauthException CaptchaUnavailable() => new(503, 503, "Captcha unavailable");

    public static OmniauthException ProviderUnavailable() => new(503, 503, "Provider unavailable");

    public static OmniauthException Unavailable() => new(503, 503, "Service unavailable");

    public JsonObject ToJson() => new() { ["code"] = Code, ["message"] = Message };
}
