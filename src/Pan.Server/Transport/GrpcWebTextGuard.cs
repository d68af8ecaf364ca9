using System.Buffers;
using System.IO.Pipelines;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Pan.Server.Errors;

namespace Pan.Server.Transport;

/// <summary>
/// Refuses a gRPC-Web text body (<c>application/grpc-web-text</c>) that is not base64 with INVALID_ARGUMENT: a byte
/// outside the base64 alphabet, padding anywhere but at the end of a 4-character group, or a body whose length is not a
/// multiple of 4.
/// </summary>
/// <remarks>
/// Why before gRPC-Web: grpc-dotnet's gRPC-Web decoder throws a plain <see cref="InvalidOperationException"/> on such a
/// body, which answered UNKNOWN with an Error log line, and left the body half read, so the server's drain of it logged
/// another Error (SECURITY 17). This reader checks the base64 the decoder is about to read, each byte once.
/// </remarks>
public sealed class GrpcWebTextGuard(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method)
        && context.Request.ContentType?.StartsWith("application/grpc-web-text", StringComparison.OrdinalIgnoreCase) == true
        && context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null
            ? RefusingPipeReader.ReadThroughAsync(context, next, inner => new Base64CheckingReader(inner))
            : next(context);

    private sealed class Base64CheckingReader(PipeReader inner) : RefusingPipeReader(inner)
    {
        private static readonly SearchValues<byte> Alphabet =
            SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8);

        // Why a count of checked bytes: the decoder reads again without consuming until a whole message is decoded.
        private long checkedLength;

        protected override void Consumed(long length) => checkedLength -= length;

        protected override RpcException? Refusal(in ReadOnlySequence<byte> buffer, bool completed)
        {
            var groups = (buffer.Length - checkedLength) / 4 * 4;
            if (!IsBase64(buffer.Slice(checkedLength, groups)))
            {
                return Invalid();
            }

            checkedLength += groups;
            return completed && buffer.Length > checkedLength ? Invalid() : null;
        }

        /// <summary>Whether whole 4-character groups are base64: alphabet characters, then "=" or "==" ending a group.</summary>
        private static bool IsBase64(in ReadOnlySequence<byte> groups)
        {
            var reader = new SequenceReader<byte>(groups);
            while (!reader.End)
            {
                var run = reader.UnreadSpan.IndexOfAnyExcept(Alphabet);
                if (run < 0)
                {
                    reader.Advance(reader.UnreadSpan.Length);
                    continue;
                }

                reader.Advance(run);
                var place = reader.Consumed % 4;
                if (place < 2 || !reader.IsNext((byte)'=', advancePast: true) || (place == 2 && !reader.IsNext((byte)'=', advancePast: true)))
                {
                    return false;
                }
            }

            return true;
        }

        private static RpcException Invalid() =>
            PanError.Plain(StatusCode.InvalidArgument, "INVALID_ARGUMENT", "The gRPC-Web text body is not base64.");
    }
}
