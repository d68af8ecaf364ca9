using System.Net.Sockets;
using System.Text;

namespace Pan.Tests.Infrastructure;

/// <summary>The answer to one raw HTTP/1.1 request: status 0 when the server closed the connection without one.</summary>
public sealed record RawAnswer(int Status, string Headers, string Body)
{
    public override string ToString() => $"{Status} {(Body.Length > 300 ? Body[..300] + "…" : Body)}";
}

/// <summary>
/// Sends HTTP/1.1 requests byte for byte over a socket, for what HttpClient will not send: invalid percent-encoding and
/// raw bytes in the path or query, duplicate headers, bodies that do not match their content type.
/// </summary>
public static class RawHttp
{
    /// <summary>A request of <paramref name="method"/> to <paramref name="target"/> (sent as is) with a Host header, Connection: close and the body's Content-Length.</summary>
    public static byte[] Request(string method, string target, byte[]? body = null, params string[] headers)
    {
        var head = new StringBuilder().Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        foreach (var header in headers)
        {
            head.Append(header).Append("\r\n");
        }

        if (body is not null)
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        head.Append("\r\n");
        // Why Latin-1: a target may carry raw bytes above 0x7F, one char per byte.
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body ?? []];
    }

    public static async Task<RawAnswer> SendAsync(Uri server, byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // Why concurrently: the server may answer (413, 400) and close before a large body is written.
        var writing = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(request, timeout.Token);
            }
            catch (IOException)
            {
            }
        });
        var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received, timeout.Token);
        }
        catch (IOException)
        {
        }

        await writing;
        return Parse(received.ToArray());
    }

    private static RawAnswer Parse(byte[] bytes)
    {
        var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        var head = Encoding.Latin1.GetString(bytes, 0, end < 0 ? bytes.Length : end);
        if (!head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || end < 0)
        {
            return new RawAnswer(0, string.Empty, head);
        }

        var body = bytes[(end + 4)..];
        if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Unchunk(body);
        }

        return new RawAnswer(int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture), head, Encoding.UTF8.GetString(body));
    }

    private static byte[] Unchunk(byte[] body)
    {
        var result = new MemoryStream();
        var at = 0;
        while (at < body.Length)
        {
            var line = body.AsSpan(at).IndexOf("\r\n"u8);
            if (line < 0 || !int.TryParse(Encoding.Latin1.GetString(body, at, line).Split(';')[0], System.Globalization.NumberStyles.HexNumber, null, out var size)
                || size == 0)
            {
                break;
            }

            var take = Math.Min(size, body.Length - at - line - 2);
            result.Write(body, at + line + 2, take);
            at += line + 2 + take + 2;
        }

        return result.ToArray();
    }
}
