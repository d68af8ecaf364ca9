using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Pan.Server.Hosting;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// One real Pan server: Kestrel on two loopback ports (HTTP/1.1 for gRPC-Web and JSON, HTTP/2 for gRPC), on a
/// test database, with a fake clock the test can move. Several may share one database (two nodes).
/// </summary>
public sealed class PanServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private PanServer(WebApplication app, Uri http, Uri grpc, FakeTimeProvider clock)
    {
        this.app = app;
        HttpUri = http;
        GrpcUri = grpc;
        Clock = clock;
        Grpc = GrpcChannel.ForAddress(grpc);
        Http = new HttpClient { BaseAddress = http };
    }

    public Uri HttpUri { get; }

    public Uri GrpcUri { get; }

    public FakeTimeProvider Clock { get; }

    /// <summary>Native gRPC over HTTP/2 cleartext.</summary>
    public GrpcChannel Grpc { get; }

    /// <summary>Plain HTTP/1.1 client for the JSON routes, pages and health.</summary>
    public HttpClient Http { get; }

    public IServiceProvider Services => app.Services;

    /// <summary>Starts a server on <paramref name="database"/> with extra settings (e.g. SMS webhook URL).</summary>
    public static async Task<PanServer> StartAsync(
        ITestDatabase database,
        IDictionary<string, string?>? settings = null,
        FakeTimeProvider? clock = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        clock ??= new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        // Why: a port probed free can be taken by a parallel fixture before Kestrel binds it; then try other ports.
        for (var attempt = 1; ; attempt++)
        {
            var http = new Uri($"http://127.0.0.1:{FreePort()}");
            var grpc = new Uri($"http://127.0.0.1:{FreePort()}");
            var app = Build(database, settings, clock, configure, http, grpc);
            try
            {
                await app.StartAsync();
                return new PanServer(app, http, grpc, clock);
            }
            catch (IOException ex) when (attempt < 5 && ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                await app.DisposeAsync();
            }
            catch
            {
                // Why: a server that refuses to start may already run hosted services (janitors); stop them with it.
                await app.DisposeAsync();
                throw;
            }
        }
    }

    private static WebApplication Build(
        ITestDatabase database, IDictionary<string, string?>? settings, FakeTimeProvider clock,
        Action<WebApplicationBuilder>? configure, Uri http, Uri grpc)
    {
        var values = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Http:Url"] = http.ToString(),
            ["Kestrel:Endpoints:Http:Protocols"] = "Http1",
            ["Kestrel:Endpoints:Grpc:Url"] = grpc.ToString(),
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
            ["ConnectionStrings:Pan"] = database.ConnectionString,
            ["Pan:Database:Provider"] = database.Provider,
            ["Pan:Hashids:Salt"] = "pan-tests-salt",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:Console:FormatterName"] = "simple",
            // Why: outside Development a server needs an SMS provider; this one points at the discard port, so a test
            // that sends SMS without its own SmsInbox (SmsInbox.Settings) gets UNAVAILABLE instead of a silent success.
            ["Pan:Sms:Provider"] = "webhook",
            ["Pan:Sms:Webhook:Url"] = "http://127.0.0.1:9/",
            // Why: likewise for email: the SMTP relay is the discard port, so a test that mails without its own SmtpInbox
            // (SmtpInbox.Settings) gets UNAVAILABLE. Links point at this server.
            ["Pan:Email:Provider"] = "smtp",
            ["Pan:Email:Smtp:Host"] = "127.0.0.1",
            ["Pan:Email:Smtp:Port"] = "9",
            ["Pan:Email:Smtp:Security"] = "None",
            ["Pan:Email:Smtp:From"] = "Pan <no-reply@pan.test>",
            ["Pan:Email:Smtp:Retries"] = "0",
            ["Pan:Links:PublicBaseUrl"] = http.ToString(),
            // Why: test servers speak plain HTTP on loopback, where a Secure-only member cookie would never come back.
            ["Pan:SignIn:CookieSecure"] = "SameAsRequest",
            // Why: every test flow comes from loopback; the suites that test the limit and the captcha threshold set their own.
            ["Pan:PhoneLookups:PerIpPerHour"] = "100000000",
            ["Pan:PhoneLookups:CaptchaAfterPerIpPerHour"] = "100000000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var app = PanApp.Build(["--environment=Testing"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(values);
            builder.Services.AddSingleton<TimeProvider>(clock);
            configure?.Invoke(builder);
        });
        return app;
    }

    /// <summary>A gRPC-Web channel on the HTTP/1.1 listener, optionally under a path prefix such as <c>/gapi</c>.</summary>
    public GrpcChannel GrpcWeb(GrpcWebMode mode = GrpcWebMode.GrpcWebText, string? prefix = null)
    {
        HttpMessageHandler handler = new GrpcWebHandler(mode, new HttpClientHandler());
        if (prefix is not null)
        {
            handler = new PrefixHandler(prefix, handler);
        }

        return GrpcChannel.ForAddress(HttpUri, new GrpcChannelOptions
        {
            HttpHandler = handler,
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });
    }

    public async ValueTask DisposeAsync()
    {
        Grpc.Dispose();
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Puts a path prefix in front of every gRPC-Web call, as web clients behind /gapi do.</summary>
    private sealed class PrefixHandler(string prefix, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            request.RequestUri = new UriBuilder(uri) { Path = prefix + uri.AbsolutePath }.Uri;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
