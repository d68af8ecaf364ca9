using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http.Features;
using Pan.Server.Errors;

namespace Pan.Server.Transport;

/// <summary>
/// Makes an HTTP/JSON body the transcoder cannot read answer like every other bad input: INVALID_ARGUMENT with an
/// ErrorInfo (reason <c>INVALID_ARGUMENT</c>) and a BadRequest naming the field by its proto path
/// (<c>address_book.id</c>).
/// </summary>
/// <remarks>
/// Why a middleware: JSON transcoding reads the request message before any interceptor runs and answers a value it
/// cannot convert (an enum name the contract lacks, a word in a number field) with a bare 400 status whose message
/// names no field and whose details are empty. Only such answers are touched: the request body is kept in memory for
/// HTTP/JSON routes, and a 400 response is held back; when its details are empty, the body is read again field by
/// field to find the one that does not parse. Every other response passes through unchanged.
/// An empty body (none at all, or zero bytes) is read as <c>{}</c>, the empty request message, as gRPC reads an empty
/// frame: the transcoder refuses a missing body with a bare 400 naming nothing, while Pan's own validation names the
/// first required field the request lacks, the same answer the call gets over gRPC.
/// </remarks>
public sealed class JsonBodyErrorMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>();
        if (method is null || !HttpMethods.IsPost(context.Request.Method) || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            await next(context);
            return;
        }

        context.Request.EnableBuffering();
        await ReadEmptyBodyAsEmptyMessageAsync(context.Request, context.RequestAborted);
        var original = context.Features.Get<IHttpResponseBodyFeature>()!;
        await using var holder = new BadRequestHolder(original.Stream, context.Response);
        var holding = new StreamResponseBodyFeature(holder, original);
        context.Features.Set<IHttpResponseBodyFeature>(holding);
        try
        {
            await next(context);
            await holding.CompleteAsync();
        }
        finally
        {
            context.Features.Set(original);
        }

        if (holder.Held is not { } held)
        {
            return;
        }

        var rewritten = await RewriteAsync(context, method, held.ToArray());
        await original.Stream.WriteAsync(rewritten, context.RequestAborted);
    }

    private static readonly byte[] EmptyMessage = "{}"u8.ToArray();

    // The four whitespace characters of JSON (RFC 8259 section 2).
    private static readonly System.Buffers.SearchValues<byte> JsonWhitespace = System.Buffers.SearchValues.Create(" \t\r\n"u8);

    /// <summary>
    /// Replaces a request body of no bytes, or of JSON whitespace only, with <c>{}</c> (and says it is JSON when the
    /// request said nothing).
    /// </summary>
    private static async Task ReadEmptyBodyAsEmptyMessageAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // Why a read rather than Content-Length: a chunked or HTTP/2 request has none, and may still carry no bytes. The
        // read stops at the first byte that is not JSON whitespace, so a real body costs one short read.
        var probe = new byte[64];
        int read;
        while ((read = await request.Body.ReadAsync(probe, cancellationToken)) > 0)
        {
            if (probe.AsSpan(0, read).IndexOfAnyExcept(JsonWhitespace) >= 0)
            {
                request.Body.Position = 0;
                return;
            }
        }

        request.Body = new MemoryStream(EmptyMessage, writable: false);
        request.ContentLength = EmptyMessage.Length;
        request.ContentType ??= "application/json";
    }

    private static async Task<byte[]> RewriteAsync(HttpContext context, GrpcMethodMetadata method, byte[] answer)
    {
        try
        {
            using var status = JsonDocument.Parse(answer);
            if (!status.RootElement.TryGetProperty("details", out var details) || details.ValueKind != JsonValueKind.Array || details.GetArrayLength() > 0
                || !status.RootElement.TryGetProperty("code", out var code) || code.GetInt32() != (int)Grpc.Core.StatusCode.InvalidArgument)
            {
                return answer;
            }

            var input = FindInput(method.Method.FullName);
            context.Request.Body.Position = 0;
            JsonDocument? body = null;
            try
            {
                body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            }
            catch (JsonException)
            {
                // Not JSON at all: no field to name.
            }

            using (body)
            {
                var violation = input is not null && body?.RootElement.ValueKind == JsonValueKind.Object
                    ? Diagnose(input, body.RootElement, prefix: "")
                    : null;
                var rpc = violation is { } v
                    ? PanError.InvalidArgument(v)
                    : PanError.Plain(Grpc.Core.StatusCode.InvalidArgument, "INVALID_ARGUMENT", status.RootElement.GetProperty("message").GetString() ?? "");
                var detailed = rpc.Trailers.GetValueBytes("grpc-status-details-bin") is { } bytes ? Google.Rpc.Status.Parser.ParseFrom(bytes) : null;
                if (detailed is null)
                {
                    return answer;
                }

                // Why re-serialised: the same compact JSON the transcoder writes.
                using var formatted = JsonDocument.Parse(Formatter.Format(detailed));
                return JsonSerializer.SerializeToUtf8Bytes(formatted.RootElement);
            }
        }
        catch (JsonException)
        {
            return answer;
        }
    }

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithTypeRegistry(
        TypeRegistry.FromMessages(Google.Rpc.ErrorInfo.Descriptor, Google.Rpc.BadRequest.Descriptor)));

    private static MessageDescriptor? FindInput(string fullMethodName)
    {
        var slash = fullMethodName.LastIndexOf('/');
        var service = fullMethodName[1..slash];
        var name = fullMethodName[(slash + 1)..];
        foreach (var file in SeedEnums.Files)
        {
            if (file.Services.FirstOrDefault(s => s.FullName == service)?.FindMethodByName(name) is { } found)
            {
                return found.InputType;
            }
        }

        return null;
    }

    /// <summary>The first field of <paramref name="json"/> that does not parse as a field of <paramref name="type"/>.</summary>
    private static FieldViolation? Diagnose(MessageDescriptor type, JsonElement json, string prefix)
    {
        foreach (var property in json.EnumerateObject())
        {
            var field = type.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == property.Name || f.Name == property.Name);
            if (field is null)
            {
                continue;
            }

            var path = prefix + field.Name;
            if (Parses(type, field, property.Value))
            {
                continue;
            }

            if (field.FieldType == FieldType.Message && !field.IsRepeated && !field.IsMap && property.Value.ValueKind == JsonValueKind.Object
                && Diagnose(field.MessageType, property.Value, path + ".") is { } inner)
            {
                return inner;
            }

            return new FieldViolation(path, Problem(field));
        }

        return null;
    }

    private static bool Parses(MessageDescriptor type, FieldDescriptor field, JsonElement value)
    {
        try
        {
            var single = $"{{{JsonSerializer.Serialize(field.JsonName)}:{value.GetRawText()}}}";
            JsonParser.Default.Parse(single, type);
            return true;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException or OverflowException or InvalidOperationException)
        {
            return false;
        }
    }

    private static string Problem(FieldDescriptor field)
    {
        var what = field.FieldType switch
        {
            FieldType.Enum => $"one of the names or numbers of {field.EnumType.FullName}",
            FieldType.Bool => "true or false",
            FieldType.String => "a string",
            FieldType.Bytes => "base64",
            FieldType.Message => $"an object ({field.MessageType.FullName})",
            FieldType.Double or FieldType.Float => "a number",
            _ => "an integer (64-bit integers may be strings)",
        };
        return field.IsRepeated ? $"must be a list, each {what}" : $"must be {what}";
    }

    /// <summary>Passes writes through, except the body of a 400 answer, which it keeps for the middleware.</summary>
    private sealed class BadRequestHolder(Stream inner, HttpResponse response) : Stream
    {
        private bool? holding;

        public MemoryStream? Held { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        private Stream Target()
        {
            holding ??= response.StatusCode == StatusCodes.Status400BadRequest;
            if (holding.Value)
            {
                Held ??= new MemoryStream();
                return Held;
            }

            return inner;
        }

        public override void Write(byte[] buffer, int offset, int count) => Target().Write(buffer, offset, count);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Target().WriteAsync(buffer, offset, count, cancellationToken);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => Target().WriteAsync(buffer, cancellationToken);
        public override void Flush()
        {
            if (holding != true)
            {
                inner.Flush();
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => holding == true ? Task.CompletedTask : inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
