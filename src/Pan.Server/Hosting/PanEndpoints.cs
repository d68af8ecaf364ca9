using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Pan.Server.Admin;
using Pan.Server.Cors;
using Pan.Server.Deletion;
using Pan.Server.Guests;
using Pan.Server.Health;
using Pan.Server.Lever;
using Pan.Server.Members;
using Pan.Server.Network;
using Pan.Server.OAuth;
using Pan.Server.Omniauth;
using Pan.Server.Pages;
using Pan.Server.Pages.SignIn;
using Pan.Server.Transport;

namespace Pan.Server.Hosting;

/// <summary>Maps the middleware pipeline and every endpoint of the Pan host.</summary>
public static class PanEndpoints
{
    public static WebApplication MapPan(this WebApplication app)
    {
        // Why first: its elapsed time covers the whole pipeline, and it sees the endpoint routing chose on the way out.
        app.UseMiddleware<RequestLog>();
        // Why second: a page or HTTP endpoint that meets a database outage answers 503 (logged by the access line), not 500.
        app.UseMiddleware<Errors.OutageAnswers>();
        app.UsePanForwardedHeaders();
        // Why here: before the gRPC-Web prefix is taken off (a prefixed call's preflight keeps its prefix), so a preflight
        // is answered before any endpoint, OpenIddict or guard runs, and every later answer gets its CORS headers.
        app.UsePanCors();
        app.UseMiddleware<GrpcWebPrefixMiddleware>();
        // Why before routing: the OAuth gRPC services replay /connect/* through the rest of this pipeline in-process.
        app.UsePanOAuthPipeline();
        app.UseRouting();
        // Why after routing: it knows an avatar upload by its gRPC method, whatever the transport.
        app.UseMiddleware<Avatars.AvatarUploadDeadline>();
        // Why before gRPC-Web: it checks the base64 of gRPC-Web text bodies that gRPC-Web's decoder reads.
        app.UseMiddleware<GrpcWebTextGuard>();
        // Why: gRPC-Web (text and binary) is on for every service, on both listeners.
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        // Why after gRPC-Web: it checks the frames of every gRPC body, gRPC-Web text ones once decoded.
        app.UseMiddleware<GrpcFrameGuard>();
        // Why after routing: it needs the gRPC method of an HTTP/JSON route to name a field the transcoder could not read.
        app.UseMiddleware<JsonBodyErrorMiddleware>();
        // Why before the OAuth provider and the pages: they read forms where a form the reader refuses cannot be caught.
        app.UsePanFormBodyGuard();

        app.MapGrpcService<MemberServiceV2Endpoint>();
        app.MapGrpcService<CommandEndpoint>();
        app.MapGrpcService<AdminEndpoint>();
        app.MapGrpcService<LeverMemberEndpoint>();
        app.MapGrpcService<AppEndpoint>();
        app.MapGrpcService<ConsentEndpoint>();
        app.MapPanReflection();
        app.MapGrpcService<GuardedHealthService>();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapOpenApiDocument();
        app.MapPanMemberExtras();
        app.MapPanAccountPages();
        app.MapPanOmniauth();
        app.MapPanGuests();
        app.MapPanSignInPages();
        app.MapPanOAuth();
        return app;
    }

    private static Task WriteHealthAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
