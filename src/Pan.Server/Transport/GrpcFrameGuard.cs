using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;

namespace Pan.Server.Transport;

/// <summary>
/// Checks the framing of a gRPC request body (each message: a compressed flag, a 4-byte length, the message) as
/// grpc-dotnet reads it, and refuses a body it would refuse with INVALID_ARGUMENT instead of its INTERNAL or UNKNOWN:
/// a body that ends inside a frame, a unary or server-streaming call with no message or more than one, a compressed
/// flag other than 0 and 1, a compressed message without a grpc-encoding. A length beyond 2³¹−1 answers
/// RESOURCE_EXHAUSTED like any message over the size limit.
/// </summary>
/// <remarks>
/// Why a reader in front of grpc-dotnet's: it reads the frames before any Pan code runs and answers these bodies
/// INTERNAL ("Incomplete message.", "Additional data after the message received."), or UNKNOWN with an Error log
/// line when the flag or the length is out of range (SECURITY 17). An <see cref="RpcException"/> thrown from the
/// body reader reaches the caller as its status and is logged at Information. Runs after gRPC-Web, so it sees
/// gRPC-Web text bodies decoded. Only the first frame of each read is looked at: grpc-dotnet consumes whole frames,
/// so every read starts at one.
/// </remarks>
public sealed class GrpcFrameGuard(RequestDelegate next, IOptions<GrpcServiceOptions> options)
{
    private readonly int maxMessageSize = options.Value.MaxReceiveMessageSize ?? int.MaxValue;

    public Task InvokeAsync(HttpContext context)
    {
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        if (method is null || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
        {
            return next(context);
        }

        var encoding = context.Request.Headers["grpc-encoding"].ToString();
        var singleMessage = method.Type is MethodType.Unary or MethodType.ServerStreaming;
        var encoded = encoding.Length > 0 && !string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase);
        return RefusingPipeReader.ReadThroughAsync(context, next, inner => new FrameCheckingReader(inner, singleMessage, encoded, maxMessageSize));
    }

    private sealed class FrameCheckingReader(PipeReader inner, bool singleMessage, bool encoded, int maxMessageSize) : RefusingPipeReader(inner)
    {
        private const int HeaderSize = 5;

        private bool consumedAMessage;

        // Why: grpc-dotnet advances past a frame only once it has read the whole message.
        protected override void Consumed(long length) => consumedAMessage |= length > 0;

        protected override RpcException? Refusal(in ReadOnlySequence<byte> buffer, bool completed)
        {
            if (buffer.IsEmpty)
            {
                return completed && singleMessage && !consumedAMessage ? Invalid("The request holds no message.") : null;
            }

            if (singleMessage && consumedAMessage)
            {
                return Invalid("The request holds more than one message.");
            }

            if (buffer.Length < HeaderSize)
            {
                return completed ? Invalid("The request ends inside a message header.") : null;
            }

            Span<byte> header = stackalloc byte[HeaderSize];
            buffer.Slice(0, HeaderSize).CopyTo(header);
            if (header[0] > 1)
            {
                return Invalid("A message's compressed flag is neither 0 nor 1.");
            }

            if (header[0] == 1 && !encoded)
            {
                return Invalid("A message is compressed but the request names no grpc-encoding.");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
            if (length > maxMessageSize)
            {
                // Why grpc-dotnet's answer below 2³¹: it refuses an oversized message as soon as it reads the length.
                return length > int.MaxValue
                    ? PanError.Plain(StatusCode.ResourceExhausted, "RESOURCE_EXHAUSTED", "Received message exceeds the maximum configured message size.")
                    : null;
            }

            var frame = HeaderSize + (long)length;
            if (buffer.Length < frame)
            {
                return completed ? Invalid("The request ends inside a message.") : null;
            }

            return singleMessage && buffer.Length > frame ? Invalid("The request holds more than one message.") : null;
        }

        private static RpcException Invalid(string message) => PanError.Plain(StatusCode.InvalidArgument, "INVALID_ARGUMENT", message);
    }
}
