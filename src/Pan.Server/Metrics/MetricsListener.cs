using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Pan.Server.Metrics;

/// <summary>
/// The metrics listener: when <c>Pan:Metrics:Url</c> is set, a small Kestrel server of its own on that address that
/// answers <c>GET /metrics</c> (Prometheus text format, written by OpenTelemetry's Prometheus exporter) and 404 to
/// anything else, publishing Pan's meter and ASP.NET Core's and the runtime's built-in ones. Off: nothing is opened, no
/// meter provider is built and nothing listens to any meter.
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
    private static readonly string[] HostMeters = [PanMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    /// <summary>The runtime's meter (GC, thread pool, exceptions): one per process, not made by a host's factory.</summary>
    private const string RuntimeMeter = "System.Runtime";

    private MeterProvider? provider;
    private WebApplication? server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter([.. HostMeters, RuntimeMeter])
            // Why the view: OpenTelemetry selects meters by name only, so meters of the same name made by another host in
            // the process (a second server in tests) would be counted here too. Dropping every instrument whose meter
            // is not this host's (the runtime's aside) leaves them unobserved by this provider.
            .AddView(instrument => instrument.Meter.Name == RuntimeMeter || ReferenceEquals(instrument.Meter.Scope, meters)
                ? null
                : MetricStreamConfiguration.Drop)
            .AddPrometheusExporter(o =>
            {
                // Why no cache: each scrape reads the counters as they are now (the exporter's default answers a
                // scrape within 300 ms with the previous one's text).
                o.ScrapeResponseCacheDurationMilliseconds = 0;
                // Why no scope labels or target_info: a series is named by its metric and Pan's labels only, as the
                // README lists them; the meter is already the metric name's prefix.
                o.ScopeInfoEnabled = false;
                o.TargetInfoEnabled = false;
            })
            .Build();

        // Why an empty builder: it reads no appsettings.json (whose Kestrel endpoints are the public listeners).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls(options.Value.Url!.Trim());
        builder.Services.Replace(ServiceDescriptor.Singleton(loggers));
        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            provider,
            context => HttpMethods.IsGet(context.Request.Method) && context.Request.Path == "/metrics",
            path: null,
            configureBranchedPipeline: null,
            optionsName: null);
        app.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
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
        if (server is not null)
        {
            await server.DisposeAsync();
            server = null;
        }

        provider?.Dispose();
        provider = null;
    }
}
