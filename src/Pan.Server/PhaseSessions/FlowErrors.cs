using Grpc.Core;
using Pan.Server.Errors;

namespace Pan.Server.PhaseSessions;

/// <summary>
/// The error vocabulary of one phased flow. Register, Login, ValidatePhone(V2) and the step-up RPCs share the same
/// failure kinds but each has its own seed enum and numbers; this maps kinds to that flow's enum values.
/// Reading of the seed names: CODE_PENDING = a code was sent and the resend cool-down is running (RetryInfo says
/// how long); CODE_PENDING_10 = sending is paused because this flow or this phone/IP/country reached its send limit;
/// RETRY_REQUIRED = the flow cannot go on (code dead after too many wrong tries, flow already finished): start over.
/// </summary>
public sealed class FlowErrors
{
    private readonly Func<StatusCode, string, RpcException> sessionInvalid;
    private readonly Func<StatusCode, string, RpcException> codeInvalid;
    private readonly Func<StatusCode, string, IReadOnlyDictionary<string, string>, int?, RpcException> codePending;
    private readonly Func<StatusCode, string, RpcException> codePending10;
    private readonly Func<StatusCode, string, IReadOnlyDictionary<string, string>, int?, RpcException> recaptcha;
    private readonly Func<StatusCode, string, RpcException> retry;
    private readonly string codeField;

    private FlowErrors(
        Func<StatusCode, string, RpcException> sessionInvalid,
        Func<StatusCode, string, RpcException> codeInvalid,
        Func<StatusCode, string, IReadOnlyDictionary<string, string>, int?, RpcException> codePending,
        Func<StatusCode, string, RpcException> codePending10,
        Func<StatusCode, string, IReadOnlyDictionary<string, string>, int?, RpcException> recaptcha,
        Func<StatusCode, string, RpcException> retry,
        string codeField)
    {
        this.sessionInvalid = sessionInvalid;
        this.codeInvalid = codeInvalid;
        this.codePending = codePending;
        this.codePending10 = codePending10;
        this.recaptcha = recaptcha;
        this.retry = retry;
        this.codeField = codeField;
    }

    /// <summary>Builds a flow's vocabulary. <paramref name="retryRequired"/> defaults to <paramref name="sessionInvalid"/> where the seed has no RETRY_REQUIRED.</summary>
    public static FlowErrors From<TEnum>(
        TEnum sessionInvalid, TEnum codeInvalid, TEnum codePending, TEnum codePending10, TEnum recaptchaFailed,
        TEnum? retryRequired = null, string codeField = "phase_input_code_value")
        where TEnum : struct, Enum
    {
        var retryValue = retryRequired ?? sessionInvalid;
        return new FlowErrors(
            (c, m) => PanError.Of(sessionInvalid, c, m),
            (c, m) => PanError.Of(codeInvalid, c, m, new FieldViolation(codeField, m)),
            (c, m, meta, after) => PanError.With(codePending, c, m, meta, after),
            (c, m) => PanError.Of(codePending10, c, m),
            (c, m, meta, after) => PanError.With(recaptchaFailed, c, m, meta, after),
            (c, m) => PanError.Of(retryValue, c, m),
            codeField);
    }

    public string CodeField => codeField;

    public RpcException SessionInvalid() =>
        sessionInvalid(StatusCode.Unauthenticated, "The phase_session_token is unknown, expired or belongs to another flow; start again.");

    /// <summary>SESSION_INVALID with a message of its own (the flow ended for a reason the generic text does not name).</summary>
    public RpcException SessionInvalid(string message) => sessionInvalid(StatusCode.Unauthenticated, message);

    public RpcException CodeInvalid(CodeCheck check) => codeInvalid(StatusCode.InvalidArgument, check switch
    {
        CodeCheck.Expired => "The code has expired; ask for a new one.",
        CodeCheck.Dead or CodeCheck.Killed => "Too many wrong codes; ask for a new one.",
        CodeCheck.NoCode => "No code has been sent in this flow yet.",
        CodeCheck.AlreadyUsed => "The code was already used.",
        _ => "The code is wrong.",
    });

    public RpcException CodePending(int seconds) => codePending(StatusCode.ResourceExhausted,
        $"A code was just sent; a new one can be sent in {seconds} s.", new Dictionary<string, string>(), seconds);

    public RpcException CodePending10() =>
        codePending10(StatusCode.ResourceExhausted, "Too many codes were sent; try again later.");

    /// <summary>The flow is waiting for a captcha: solve it and call UnlockSessionToken with the returned phase_session_token.</summary>
    public RpcException CaptchaRequired(string? sessionToken) => recaptcha(StatusCode.PermissionDenied,
        "A captcha is required: call UnlockSessionToken with this flow's phase_session_token, then continue.",
        sessionToken is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["phase_session_token"] = sessionToken }, null);

    public RpcException CaptchaFailed() => recaptcha(StatusCode.PermissionDenied, "The captcha was not accepted.", new Dictionary<string, string>(), null);

    public RpcException RetryRequired(string message) => retry(StatusCode.FailedPrecondition, message);
}
