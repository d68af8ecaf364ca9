using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Pan.Tests.Infrastructure;

/// <summary>One event request an app's endpoint accepted: which app's path it came to, its headers and its raw body.</summary>
public sealed record AppEventDelivery(string AppId, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A real HTTP server on loopback playing the event endpoints of the family's apps: <c>POST /events/{app_id}</c>, any
/// 2xx is delivered. Records every accepted request with its headers and exact body; can answer the next requests
/// with an error status (as <see cref="SmsInbox"/> does for the SMS webhook). Thread-safe.
/// </summary>
public sealed class AppEventInbox : IAsyncDisposable
{
    private readonly object gate = new();
    private readonly List<AppEventDelivery> deliveries = [];
    private readonly Queue<HttpStatusCode> next = new();
    private readonly WebApplication app;
    private int requests;

    private AppEventInbox(WebApplication app)
    {
        this.app = app;
    }

    /// <summary>The server's base address, e.g. http://127.0.0.1:40123/.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Requests received, including refused ones.</summary>
    public int Requests => Volatile.Read(ref requests);

    public IReadOnlyList<AppEventDelivery> Deliveries
    {
        get
        {
            lock (gate)
            {
                return [.. deliveries];
            }
        }
    }

    public static async Task<AppEventInbox> StartAsync()
    {
        // Why: an empty builder reads no appsettings.json (whose Kestrel endpoints would collide) and logs nothing.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var inbox = new AppEventInbox(app);
        app.Run(inbox.HandleAsync);
        await app.StartAsync();
        inbox.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/");
        return inbox;
    }

    /// <summary>The endpoint URL of <paramref name="appId"/>.</summary>
    public string UrlOf(string appId) => new Uri(BaseUrl, "events/" + appId).ToString();

    /// <summary>Answers the next <paramref name="count"/> requests with <paramref name="status"/> without accepting them.</summary>
    public void FailNext(int count, HttpStatusCode status = HttpStatusCode.InternalServerError)
    {
        lock (gate)
        {
            for (var i = 0; i < count; i++)
            {
                next.Enqueue(status);
            }
        }
    }

    /// <summary>Forgets the failures not yet used.</summary>
    public void Recover()
    {
        lock (gate)
        {
            next.Clear();
        }
    }

    /// <summary>Accepted deliveries whose body contains <paramref name="text"/> (e.g. a member's object_id).</summary>
    public IReadOnlyList<AppEventDelivery> Containing(string text)
    {
        lock (gate)
        {
            return [.. deliveries.Where(d => d.Body.Contains(text, StringComparison.Ordinal))];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref requests);
        var path = context.Request.Path.Value ?? string.Empty;
        if (!HttpMethods.IsPost(context.Request.Method) || !path.StartsWith("/events/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        HttpStatusCode? refuse = null;
        lock (gate)
        {
            if (next.TryDequeue(out var status))
            {
                refuse = status;
            }
        }

        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        if (refuse is { } code)
        {
            context.Response.StatusCode = (int)code;
            return;
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        lock (gate)
        {
            deliveries.Add(new AppEventDelivery(path["/events/".Length..], headers, body));
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}
