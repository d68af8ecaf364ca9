using System.Diagnostics;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.Http.Features;

namespace Pan.Server.Hosting;

/// <summary>
/// Pan's access log: one Information line per finished request under <see cref="Category"/>, in place of ASP.NET
/// Core's request lines (held off by <see cref="LogSecrecy"/>). It names the endpoint, never the request: the HTTP
/// method, the gRPC method (native, gRPC-Web or JSON-transcoded) or else the matched route template, the HTTP status,
/// the gRPC status, the elapsed time, the protocol and the trace identifier. A request no endpoint matched is
/// <see cref="NoRoute"/>.
/// </summary>
/// <remarks>
/// Why never the path, the query string, headers or bodies: the query string carries verify-email and reset link
/// tokens, a guest activation path is <c>/admin/user/activate/{code}@{phone}</c>, and an unmatched path is whatever a
/// caller chose to send. Why the method is reduced to the standard ones: Kestrel accepts any token as a method.
/// On only while its category logs Information: appsettings.json holds <c>Pan.Requests</c> at Warning (a line per call
/// costs about as much CPU as a token check, README "Access log"), appsettings.Development.json turns it on. Off, it
/// costs one <c>IsEnabled</c> check per request.
/// </remarks>
public sealed partial class RequestLog(RequestDelegate next, ILoggerFactory loggers)
{
    /// <summary>The log category of the access log.</summary>
    public const string Category = "Pan.Requests";

    /// <summary>What the route field says when no endpoint matched (the path is never logged).</summary>
    public const string NoRoute = "(no route)";

    private readonly ILogger logger = loggers.CreateLogger(Category);

    public Task InvokeAsync(HttpContext context) =>
        logger.IsEnabled(LogLevel.Information) ? InvokeLoggedAsync(context) : next(context);

    private async Task InvokeLoggedAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        // Why read now: the gRPC-Web middleware sets the request's protocol to HTTP/2 and does not always restore it.
        var protocol = context.Request.Protocol;
        var failed = true;
        try
        {
            await next(context);
            failed = false;
        }
        finally
        {
            Write(context, protocol, started, failed);
        }
    }

    private void Write(HttpContext context, string protocol, long started, bool failed)
    {
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var response = context.Response;
        // Why: an exception that escaped the pipeline becomes Kestrel's 500 after this middleware has returned.
        var status = failed && !response.HasStarted ? StatusCodes.Status500InternalServerError : response.StatusCode;
        var method = StandardMethod(context.Request.Method);
        var endpoint = context.GetEndpoint();
        var grpc = endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>();
        if (grpc is not null && endpoint!.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null)
        {
            // Why no gRPC status: a transcoded call writes its error as JSON without setting the call context's status;
            // its HTTP status is the mapped one.
            HttpFinished(logger, method, grpc.Method.FullName, status, elapsed, protocol, context.TraceIdentifier);
        }
        else if (grpc is not null)
        {
            GrpcFinished(logger, method, grpc.Method.FullName, status, GrpcStatusOf(context), elapsed, protocol, context.TraceIdentifier);
        }
        else
        {
            var route = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? NoRoute;
            HttpFinished(logger, method, route, status, elapsed, protocol, context.TraceIdentifier);
        }
    }

    /// <summary>
    /// The call's gRPC status: what the server call context ended with (native, gRPC-Web and transcoded calls alike),
    /// else the <c>grpc-status</c> trailer, else the header of a trailers-only response; null when none was sent.
    /// </summary>
    private static StatusCode? GrpcStatusOf(HttpContext context)
    {
        if (context.Features.Get<IServerCallContextFeature>()?.ServerCallContext is { } call)
        {
            return call.Status.StatusCode;
        }

        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        var value = trailers is not null && trailers.TryGetValue("grpc-status", out var trailer) ? trailer : context.Response.Headers["grpc-status"];
        return int.TryParse(value.ToString(), out var code) ? (StatusCode)code : null;
    }

    private static string StandardMethod(string method) => method switch
    {
        _ when HttpMethods.IsPost(method) => HttpMethods.Post,
        _ when HttpMethods.IsGet(method) => HttpMethods.Get,
        _ when HttpMethods.IsHead(method) => HttpMethods.Head,
        _ when HttpMethods.IsPut(method) => HttpMethods.Put,
        _ when HttpMethods.IsDelete(method) => HttpMethods.Delete,
        _ when HttpMethods.IsPatch(method) => HttpMethods.Patch,
        _ when HttpMethods.IsOptions(method) => HttpMethods.Options,
        _ when HttpMethods.IsTrace(method) => HttpMethods.Trace,
        _ when HttpMethods.IsConnect(method) => HttpMethods.Connect,
        _ => "(other)",
    };

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "{Method} {Route} answered {StatusCode} {GrpcStatus} in {ElapsedMs:0.00} ms ({Protocol}, trace {TraceId})")]
    private static partial void GrpcFinished(
        ILogger logger, string method, string route, int statusCode, StatusCode? grpcStatus, double elapsedMs, string protocol, string traceId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "{Method} {Route} answered {StatusCode} in {ElapsedMs:0.00} ms ({Protocol}, trace {TraceId})")]
    private static partial void HttpFinished(
        ILogger logger, string method, string route, int statusCode, double elapsedMs, string protocol, string traceId);
}
