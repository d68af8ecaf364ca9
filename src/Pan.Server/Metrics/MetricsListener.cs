using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Pan.Server.Metrics;

/// <summary>
/// The metrics listener: when <c>Pan:Metrics:Url</c> is set, a small Kestrel server of its own on that address that
/// answers <c>GET /metrics</c> (Prometheus text format) and 404 to anything else, publishing Pan's meter and ASP.NET
/// Core's and the runtime's built-in ones (<see cref="MeterExport"/>). Off: nothing is opened and nothing
/// listens to any meter.
/// </summary>
/// <remarks>
/// Why a server of its own rather than another endpoint of the public host: the public pipeline stays exactly as it is
/// (no per-request check of which listener a request came in on, and <c>/metrics</c> is simply not one of its routes),
/// and the scrape does not go through the public host's middleware, access log or request metrics. A port it cannot
/// bind fails the start like a public listener's.
/// </remarks>
internal sealed class MetricsListener(IOptions<MetricsOptions> options, IMeterFactory meters, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    /// <summary>Meters created through this host's <see cref="IMeterFactory"/> that are published.</summary>
    private static readonly HashSet<string> HostMeters = [PanMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    /// <summary>The runtime's meter (GC, thread pool, exceptions): one per process, not made by a host's factory.</summary>
    private const string RuntimeMeter = "System.Runtime";

    private MeterExport? export;
    private WebApplication? server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        export = new MeterExport(instrument =>
            // Why the factory check: meters of the same name made by another host in the process (a second server in
            // tests) are not this server's.
            (HostMeters.Contains(instrument.Meter.Name) && ReferenceEquals(instrument.Meter.Scope, meters)) || instrument.Meter.Name == RuntimeMeter);

        // Why an empty builder: it reads no appsettings.json (whose Kestrel endpoints are the public listeners).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls(options.Value.Url!.Trim());
        builder.Services.Replace(ServiceDescriptor.Singleton(loggers));
        var app = builder.Build();
        var scrape = export;
        app.Run(context =>
        {
            if (!HttpMethods.IsGet(context.Request.Method) || context.Request.Path != "/metrics")
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return context.Response.WriteAsync(scrape.Scrape(), context.RequestAborted);
        });
        server = app;
        await app.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (server is not null)
        {
            await server.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        export?.Dispose();
        export = null;
        if (server is not null)
        {
            await server.DisposeAsync();
            server = null;
        }
    }
}
