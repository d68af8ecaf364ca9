using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Pan.Server.Apps;
using Pan.Server.Guests;
using Pan.Server.Transport;

namespace Pan.Server.Cors;

/// <summary>
/// Cross-origin calls from the family's browser apps (<c>Pan:Cors:AllowedOrigins</c>), with ASP.NET Core's CORS
/// middleware on <see cref="CorsSurface"/>'s paths only. Credentials (cookies) are never allowed: the API takes tokens
/// in messages and headers, and the member cookie of the hosted pages must never work cross-origin.
/// </summary>
public static partial class CorsExtensions
{
    /// <summary>Request headers a browser app may send: gRPC-Web's, the bearer token, and the app headers Pan reads.</summary>
    internal static readonly string[] RequestHeaders =
    [
        HeaderNames.ContentType, "x-grpc-web", "x-user-agent", "grpc-timeout", "grpc-accept-encoding", HeaderNames.Authorization,
        AppRegistry.AppIdHeader, AppRegistry.AppSecretHeader,
        ApinodeRequest.TokenHeader, ApinodeRequest.AppCodeHeader, ApinodeRequest.AppKeyHeader, ApinodeRequest.AppSecretHeader,
        ApinodeRequest.LocaleHeader,
    ];

    /// <summary>
    /// Response headers a browser app may read besides the safelisted ones. Why the gRPC ones: a trailers-only gRPC-Web
    /// answer (every refusal before a message) carries its status in headers, not in the body's trailer frame.
    /// </summary>
    internal static readonly string[] ExposedHeaders = ["grpc-status", "grpc-message", "grpc-status-details-bin", HeaderNames.RetryAfter];

    public static IServiceCollection AddPanCors(this IServiceCollection services)
    {
        services.AddOptions<PanCorsOptions>().BindConfiguration(PanCorsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<PanCorsOptions>, PanCorsOptionsValidator>();
        services.AddCors();
        return services;
    }

    /// <summary>
    /// Answers preflights and marks the answers of the browser surfaces for the allowed origins; nothing at all when none
    /// is configured. Call it before the gRPC-Web prefix is taken off (the preflight of a prefixed call has no gRPC-Web
    /// content type, so it keeps its prefix) and before OpenIddict and the transport guards, whose answers need the
    /// headers too.
    /// </summary>
    public static WebApplication UsePanCors(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<PanCorsOptions>>().Value;
        if (options.AllowedOrigins.Count == 0)
        {
            return app;
        }

        var allowed = options.AllowedOrigins.Select(CorsOrigins.Normalize).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var surface = new CorsSurface(
            app.Services.GetRequiredService<IOptions<TransportOptions>>().Value.GrpcWebPrefix,
            app.Services.GetRequiredService<IOptions<GuestOptions>>().Value.BasePath);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CorsExtensions).FullName!);
        app.UseWhen(context => surface.Covers(context.Request.Path), branch =>
        {
            branch.Use((context, next) => AnswerUnhandledErrorAsync(context, next, logger));
            branch.Use(VaryByOrigin);
            branch.UseCors(policy => policy
                .SetIsOriginAllowed(origin => allowed.Contains(origin) || CorsOrigins.Normalize(origin) is { } normal && allowed.Contains(normal))
                .WithMethods(HttpMethods.Get, HttpMethods.Post)
                .WithHeaders(RequestHeaders)
                .WithExposedHeaders(ExposedHeaders)
                .SetPreflightMaxAge(TimeSpan.FromSeconds(options.MaxAgeSeconds))
                .DisallowCredentials());
        });
        return app;
    }

    /// <summary>
    /// Answers an error no one handled with a bare 500 here, before the server would, so the answer gets the CORS
    /// headers of its route like any other.
    /// </summary>
    /// <remarks>
    /// Why: an exception that leaves the pipeline is answered 500 by Kestrel itself, which drops the headers set so far
    /// and runs none of the callbacks that add <c>Vary: Origin</c> and the allowed origin; a shared cache could then store
    /// that answer for every origin, and the app could not read it. The error is logged as Kestrel would have logged it.
    /// An answer already under way, or a call its client gave up, is left to the server.
    /// </remarks>
    private static async Task AnswerUnhandledErrorAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            UnhandledError(logger, context.TraceIdentifier, ex);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "An unhandled exception was thrown by the application; answered 500 with the route's CORS headers (trace {TraceId})")]
    private static partial void UnhandledError(ILogger logger, string traceId, Exception exception);

    /// <summary>
    /// Why every answer of these paths varies by Origin, also one to no origin or a refused one: a cache in between
    /// (discovery and JWKS are plain GETs) must not hand one origin's answer, with or without its CORS headers, to another.
    /// </summary>
    private static Task VaryByOrigin(HttpContext context, RequestDelegate next)
    {
        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpResponse)state).Headers;
            if (!headers.GetCommaSeparatedValues(HeaderNames.Vary).Contains(HeaderNames.Origin, StringComparer.OrdinalIgnoreCase))
            {
                headers.Append(HeaderNames.Vary, HeaderNames.Origin);
            }

            return Task.CompletedTask;
        }, context.Response);
        return next(context);
    }
}
