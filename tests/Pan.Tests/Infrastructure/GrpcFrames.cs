using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Rpc;
using Grpc.Core;

namespace Pan.Tests.Infrastructure;

/// <summary>How a hand-made request body reaches the server.</summary>
public enum FrameTransport
{
    /// <summary>Native gRPC: HTTP/2, <c>application/grpc</c>.</summary>
    Grpc,

    /// <summary>gRPC-Web, binary: HTTP/1.1, <c>application/grpc-web</c>.</summary>
    GrpcWeb,

    /// <summary>gRPC-Web, text: HTTP/1.1, <c>application/grpc-web-text</c> (the body base64-encoded).</summary>
    GrpcWebText,
}

/// <summary>What the server answered to a hand-made call: the gRPC status, its message and its ErrorInfo, if any.</summary>
public sealed record GrpcAnswer(HttpStatusCode HttpStatus, StatusCode? Status, string? Message, ErrorInfo? Info)
{
    public override string ToString() => $"HTTP {(int)HttpStatus}, grpc-status {Status?.ToString() ?? "(none)"}, message \"{Message}\", reason {Info?.Reason ?? "(none)"}";
}

/// <summary>
/// Sends request bodies built byte by byte — gRPC frames (a 1-byte compressed flag, a 4-byte big-endian length, the
/// message) or anything else — over a real connection, the way a broken or hostile client could, and reads the gRPC
/// status wherever the transport puts it (headers, trailers, or gRPC-Web's trailer frame).
/// </summary>
public static class GrpcFrames
{
    /// <summary>One uncompressed frame around <paramref name="message"/>.</summary>
    public static byte[] Frame(byte[] message, byte flag = 0) => Header(flag, (uint)message.Length).Concat(message).ToArray();

    /// <summary><paramref name="message"/> compressed with gzip, as a client sending <c>grpc-encoding: gzip</c> does.</summary>
    public static byte[] Gzip(byte[] message)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(message);
        }

        return compressed.ToArray();
    }

    /// <summary>A frame header alone: the flag and the length it declares, whatever follows.</summary>
    public static byte[] Header(byte flag, uint length)
    {
        var header = new byte[5];
        header[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), length);
        return header;
    }

    /// <summary>
    /// Posts <paramref name="body"/> to <c>/{method}</c> (e.g. <c>pan.x.Service/Method</c>), naming
    /// <paramref name="grpcEncoding"/> if given; text mode base64-encodes the body unless told not to.
    /// </summary>
    public static async Task<GrpcAnswer> SendAsync(
        PanServer server, FrameTransport transport, string method, byte[] body, bool encodeText = true, string? grpcEncoding = null)
    {
        using var handler = new SocketsHttpHandler();
        using var client = new HttpClient(handler);
        var native = transport == FrameTransport.Grpc;
        var payload = transport == FrameTransport.GrpcWebText && encodeText ? Encoding.ASCII.GetBytes(Convert.ToBase64String(body)) : body;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(native ? server.GrpcUri : server.HttpUri, "/" + method))
        {
            Version = native ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(payload),
        };
        var contentType = transport switch
        {
            FrameTransport.Grpc => "application/grpc",
            FrameTransport.GrpcWeb => "application/grpc-web",
            _ => "application/grpc-web-text",
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(contentType));
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        if (grpcEncoding is not null)
        {
            request.Headers.Add("grpc-encoding", grpcEncoding);
        }

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await client.SendAsync(request, cancel.Token);
        var content = await response.Content.ReadAsByteArrayAsync(cancel.Token);

        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers.Concat(response.TrailingHeaders))
        {
            fields[name] = string.Join(",", values);
        }

        if (!native)
        {
            var text = response.Content.Headers.ContentType?.MediaType?.StartsWith("application/grpc-web-text", StringComparison.Ordinal) == true;
            var frames = text ? DecodeText(content) : content;
            foreach (var (key, value) in TrailerFrame(frames))
            {
                fields[key] = value;
            }
        }

        return new GrpcAnswer(
            response.StatusCode,
            fields.TryGetValue("grpc-status", out var status) ? (StatusCode)int.Parse(status, System.Globalization.CultureInfo.InvariantCulture) : null,
            fields.TryGetValue("grpc-message", out var message) ? Uri.UnescapeDataString(message) : null,
            fields.TryGetValue("grpc-status-details-bin", out var details) ? Google.Rpc.Status.Parser.ParseFrom(FromBase64(details)).Details
                .Where(d => d.Is(ErrorInfo.Descriptor)).Select(d => d.Unpack<ErrorInfo>()).FirstOrDefault() : null);
    }

    // Why quantum by quantum: a gRPC-Web text response is several base64 chunks, each with its own padding.
    private static byte[] DecodeText(byte[] content)
    {
        var text = Encoding.ASCII.GetString(content);
        var bytes = new List<byte>();
        for (var i = 0; i + 4 <= text.Length; i += 4)
        {
            bytes.AddRange(Convert.FromBase64String(text.Substring(i, 4)));
        }

        return bytes.ToArray();
    }

    /// <summary>The fields of gRPC-Web's trailer frame (flag 0x80): <c>name:value</c> lines.</summary>
    private static IEnumerable<(string Key, string Value)> TrailerFrame(byte[] frames)
    {
        for (var at = 0; at + 5 <= frames.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(frames.AsSpan(at + 1));
            var isTrailer = (frames[at] & 0x80) != 0;
            var data = frames.AsSpan(at + 5, Math.Min(length, frames.Length - at - 5));
            if (isTrailer)
            {
                foreach (var line in Encoding.ASCII.GetString(data).Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    yield return (line[..colon].Trim(), line[(colon + 1)..].Trim());
                }
            }

            at += 5 + length;
        }
    }

    private static byte[] FromBase64(string value) =>
        Convert.FromBase64String(value.PadRight(value.Length + ((4 - (value.Length % 4)) % 4), '='));
}
