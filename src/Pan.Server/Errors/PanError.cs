using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Pan.Server.Errors;

/// <summary>
/// The one way errors leave Pan. Every failure is a gRPC status with the right status code and a
/// <c>google.rpc.ErrorInfo</c> detail that names the seed's error enum value and its number; bad input also
/// carries a <c>google.rpc.BadRequest</c> with the offending fields. The same status reaches gRPC, gRPC-Web
/// and HTTP/JSON clients.
/// </summary>
public static class PanError
{
    /// <summary>ErrorInfo.domain of every Pan error.</summary>
    public const string Domain = "pan";

    /// <summary>An error described by a seed error enum value, e.g. <c>ErrLogin.Types.General.CodeInvalid</c>.</summary>
    public static RpcException Of<TEnum>(TEnum error, StatusCode code, string message, params FieldViolation[] violations)
        where TEnum : struct, System.Enum
    {
        var descriptor = SeedEnums.Describe(typeof(TEnum));
        var number = Convert.ToInt32(error, System.Globalization.CultureInfo.InvariantCulture);
        var value = descriptor.FindValueByNumber(number)
            ?? throw new ArgumentOutOfRangeException(nameof(error), $"{number} is not a value of {descriptor.FullName}.");
        var info = new ErrorInfo
        {
            Domain = Domain,
            Reason = SeedEnums.Reason(descriptor, value),
            Metadata =
            {
                ["code"] = number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["enum"] = descriptor.FullName,
                ["name"] = value.Name,
            },
        };
        return Build(code, message, info, violations);
    }

    /// <summary>
    /// A seed error with extra ErrorInfo metadata (e.g. <c>phase_session_token</c> of a flow waiting for a captcha) and,
    /// when <paramref name="retryAfterSeconds"/> is given, a <c>google.rpc.RetryInfo</c> telling the client when to retry.
    /// </summary>
    public static RpcException With<TEnum>(TEnum error, StatusCode code, string message, IReadOnlyDictionary<string, string> metadata, int? retryAfterSeconds = null)
        where TEnum : struct, System.Enum
    {
        var ex = Of(error, code, message);
        var status = ex.GetRpcStatus()!;
        var info = status.GetDetail<ErrorInfo>();
        foreach (var (key, value) in metadata)
        {
            info.Metadata[key] = value;
        }

        if (retryAfterSeconds is { } seconds)
        {
            info.Metadata["retry_after_seconds"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        status.Details.Clear();
        status.Details.Add(Any.Pack(info));
        if (retryAfterSeconds is { } delay)
        {
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(delay)) }));
        }

        return status.ToRpcException();
    }

    /// <summary>Bad input that no seed enum describes: INVALID_ARGUMENT naming the field(s).</summary>
    public static RpcException InvalidArgument(string field, string description) =>
        InvalidArgument(new FieldViolation(field, description));

    /// <summary>Bad input that no seed enum describes: INVALID_ARGUMENT naming the field(s).</summary>
    public static RpcException InvalidArgument(params FieldViolation[] violations)
    {
        var info = new ErrorInfo { Domain = Domain, Reason = "INVALID_ARGUMENT" };
        var message = string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}"));
        return Build(StatusCode.InvalidArgument, message, info, violations);
    }

    /// <summary>A failure not in any seed vocabulary (unauthenticated caller, missing internal credential, outage).</summary>
    public static RpcException Plain(StatusCode code, string reason, string message) =>
        Build(code, message, new ErrorInfo { Domain = Domain, Reason = reason }, []);

    private static RpcException Build(StatusCode code, string message, ErrorInfo info, FieldViolation[] violations)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message, Details = { Any.Pack(info) } };
        if (violations.Length > 0)
        {
            var badRequest = new BadRequest();
            badRequest.FieldViolations.AddRange(violations.Select(v => new BadRequest.Types.FieldViolation
            {
                Field = v.Field,
                Description = v.Description,
            }));
            status.Details.Add(Any.Pack(badRequest));
        }

        return status.ToRpcException();
    }
}

/// <summary>One bad field: its proto name (snake_case, as on the wire) and what is wrong with it.</summary>
public readonly record struct FieldViolation(string Field, string Description);
