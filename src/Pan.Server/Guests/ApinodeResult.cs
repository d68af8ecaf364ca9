using System.Text.Json.Serialization;

namespace Pan.Server.Guests;

/// <summary>The framework codes of apinode (negative) that every endpoint may answer.</summary>
public static class ApinodeCodes
{
    public const int Ok = 0;
    public const int WrongContentType = -1;
    public const int NoToken = -2;
    public const int InvalidToken = -3;
    public const int TokenExpired = -4;
    public const int InvalidEndpoint = -11;
    public const int InvalidApp = -12;
    public const int UnknownOperation = -14;
    public const int WrongParameter = -16;
    public const int NoPermission = -20;
    public const int DatabaseError = -30;
    public const int InternalError = -100;
}

/// <summary>The <c>token</c> member of the envelope: the token and its expiry in Unix milliseconds.</summary>
public sealed record ApinodeToken(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("validTo")] long ValidTo);

/// <summary>
/// The apinode envelope <c>{"code":0,"message":"Ok","value":{…},"token":{…}}</c>; <c>value</c> and <c>token</c> are left
/// out when there is none. Always sent with HTTP 200, as apinode did, whatever the code.
/// </summary>
public sealed record ApinodeResult(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("value"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Value = null,
    [property: JsonPropertyName("token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ApinodeToken? Token = null)
{
    public static ApinodeResult Ok(object? value = null, ApinodeToken? token = null) => new(ApinodeCodes.Ok, "Ok", value, token);

    public static ApinodeResult Error(int code, string message, object? value = null) => new(code, message, value);
}

/// <summary>Ends a request early with an apinode error (caught once, in the endpoint dispatcher).</summary>
public sealed class ApinodeException(int code, string message, object? value = null) : Exception(message)
{
    public int Code { get; } = code;

    public object? Value { get; } = value;

    public ApinodeResult ToResult() => ApinodeResult.Error(Code, Message, Value);
}
