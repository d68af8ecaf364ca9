using Microsoft.Extensions.Options;

namespace Pan.Server.Transport;

/// <summary>
/// Serves gRPC-Web under the configured prefix too: <c>/gapi/pan.general.member.MemberServiceV2/Me</c> is handled
/// as <c>/pan.general.member.MemberServiceV2/Me</c>. Only gRPC-Web requests are rewritten; nothing else moves.
/// </summary>
public sealed class GrpcWebPrefixMiddleware(RequestDelegate next, IOptions<TransportOptions> options)
{
    private readonly PathString prefix = new(options.Value.GrpcWebPrefix);

    public Task InvokeAsync(HttpContext context)
    {
        if (prefix.HasValue
            && IsGrpcWeb(context.Request.ContentType)
            && context.Request.Path.StartsWithSegments(prefix, out var rest))
        {
            context.Request.PathBase = context.Request.PathBase.Add(prefix);
            context.Request.Path = rest;
        }

        return next(context);
    }

    private static bool IsGrpcWeb(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/grpc-web", StringComparison.OrdinalIgnoreCase);
}
