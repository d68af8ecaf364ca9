using System.Globalization;
using Google.Rpc;
using Grpc.Core;
using Pan.Server.Errors;

namespace Pan.Server.Pages.SignIn;

/// <summary>What a sign-in page shows when Pan's login flow refused a step: the sentence, the HTTP status, and whether the flow is over.</summary>
public sealed record LoginRefusal(string Message, int Status, bool FlowOver);

/// <summary>
/// Turns the login flow's errors (the same <see cref="RpcException"/>s the Login RPC answers with) into page messages,
/// so the pages follow exactly the rules of the gRPC flow without re-implementing them.
/// </summary>
public static class LoginRefusals
{
    public static LoginRefusal From(RpcException error, SignInText text, bool email = false)
    {
        var info = error.GetRpcStatus()?.GetDetail<ErrorInfo>();
        var reason = info?.Reason ?? string.Empty;
        return reason switch
        {
            "ErrLogin.NOT_FOUND" or "ErrLogin.PHONE_HAS_NO_MEMBER" => email
                ? new LoginRefusal(text.EmailWrong, StatusCodes.Status400BadRequest, true)
                : new LoginRefusal(text.PhoneUnknown, StatusCodes.Status404NotFound, true),
            "ErrLogin.CODE_INVALID" => new LoginRefusal(email ? text.EmailWrong : text.CodeWrong, StatusCodes.Status400BadRequest, false),
            "ErrLogin.CODE_PENDING" => new LoginRefusal(
                string.Format(CultureInfo.CurrentCulture, text.CodePending, RetryAfter(info)), StatusCodes.Status429TooManyRequests, false),
            "ErrLogin.CODE_PENDING_10" => new LoginRefusal(text.TooManyCodes, StatusCodes.Status429TooManyRequests, false),
            "ErrLogin.GENERAL_RECAPTCHA_FAILED" => new LoginRefusal(text.CaptchaNeeded, StatusCodes.Status403Forbidden, true),
            "ErrLogin.SESSION_INVALID" => new LoginRefusal(text.FlowExpired, StatusCodes.Status400BadRequest, true),
            _ when error.StatusCode == StatusCode.Unavailable => Unavailable(text),
            _ when error.StatusCode == StatusCode.InvalidArgument => new LoginRefusal(
                email ? text.EmailWrong : text.PhoneInvalid, StatusCodes.Status400BadRequest, false),
            _ => new LoginRefusal(text.Failed, StatusCodes.Status400BadRequest, true),
        };
    }

    /// <summary>The database or the SMS provider is unreachable: nothing was signed in.</summary>
    public static LoginRefusal Unavailable(SignInText text) => new(text.Unavailable, StatusCodes.Status503ServiceUnavailable, false);

    private static string RetryAfter(ErrorInfo? info) =>
        info?.Metadata.TryGetValue("retry_after_seconds", out var seconds) == true ? seconds : "60";

    /// <summary>True for a failure that is an outage of a dependency rather than a bug (see <see cref="ErrorInterceptor.IsOutage"/>).</summary>
    public static bool IsOutage(Exception error) => ErrorInterceptor.IsOutage(error);
}
