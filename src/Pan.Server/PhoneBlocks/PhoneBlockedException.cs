using Google.Rpc;
using Grpc.Core;

namespace Pan.Server.PhoneBlocks;

/// <summary>
/// The phone number is blocked by an operator (<see cref="PhoneBlocks"/>): no code was sent and no account takes it.
/// gRPC callers get PERMISSION_DENIED with ErrorInfo reason <see cref="Reason"/> (<see cref="Errors.ErrorInterceptor"/>);
/// blocking is not secret to the number's owner, but the operator's reason is never told.
/// </summary>
public sealed class PhoneBlockedException() : Exception("The phone number is blocked.")
{
    /// <summary>The ErrorInfo reason of the refusal (domain pan), a Pan code outside the seed's vocabularies.</summary>
    public const string Reason = "PHONE_BLOCKED";

    /// <summary>What the caller is told.</summary>
    public const string Text = "This number cannot be used.";

    /// <summary>The gRPC status: PERMISSION_DENIED, reason PHONE_BLOCKED.</summary>
    public RpcException ToRpcException()
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)StatusCode.PermissionDenied,
            Message = Text,
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(new ErrorInfo { Domain = Errors.PanError.Domain, Reason = Reason }) },
        };
        return status.ToRpcException();
    }
}
