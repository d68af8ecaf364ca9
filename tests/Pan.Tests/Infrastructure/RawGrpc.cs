using Grpc.Core;
using Grpc.Net.Client;

namespace Pan.Tests.Infrastructure;

/// <summary>Calls any unary method by its full name with raw protobuf bytes (an empty array is an empty message).</summary>
public static class RawGrpc
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    public static async Task<StatusCode> CallAsync(GrpcChannel channel, string service, string method, byte[]? request = null) =>
        (await FailureOfAsync(channel, service, method, request))?.StatusCode ?? StatusCode.OK;

    /// <summary>The error a call answers, or null when it succeeds.</summary>
    public static async Task<RpcException?> FailureOfAsync(GrpcChannel channel, string service, string method, byte[]? request = null)
    {
        var descriptor = new Method<byte[], byte[]>(MethodType.Unary, service, method, Bytes, Bytes);
        try
        {
            await channel.CreateCallInvoker().AsyncUnaryCall(descriptor, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), request ?? []);
            return null;
        }
        catch (RpcException ex)
        {
            return ex;
        }
    }
}
