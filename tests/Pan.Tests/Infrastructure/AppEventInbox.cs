using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Pan.Tests.Infrastructure;

/// <summary>How an app's endpoint answers (<see cref="AppEventInbox.AnswerFor"/>).</summary>
public enum AppEventAnswer
{
    /// <summary>Records the request and answers 204.</summary>
    Accept,

    /// <summary>Answers 307 to <c>/events/{app_id}-redirected</c> (which would accept it) without recording it.</summary>
    Redirect,

    /// <summary>Reads the request, then never answers (until <see cref="AppEventInbox.ReleaseHangs"/> or the caller gives up).</summary>
    Hang,

    /// <summary>Records the request and answers 200 with a body that never ends (until the caller goes away).</summary>
    EndlessBody,
}

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
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AppEventAnswer> answers = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> requestsPerApp = new(StringComparer.Ordinal);
    private CancellationTokenSource hangs = new();
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

    /// <summary>How requests to <paramref name="appId"/>'s path are answered from now on (<see cref="AppEventAnswer.Accept"/> by default).</summary>
    public void AnswerFor(string appId, AppEventAnswer answer) => answers[appId] = answer;

    /// <summary>Requests received on <paramref name="appId"/>'s path, including refused ones.</summary>
    public int RequestsOf(string appId) => requestsPerApp.GetValueOrDefault(appId);

    /// <summary>Answers every request hanging now with 503.</summary>
    public void ReleaseHangs()
    {
        var old = Interlocked.Exchange(ref hangs, new CancellationTokenSource());
        old.Cancel();
        old.Dispose();
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
        ReleaseHangs();
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

        var appId = path["/events/".Length..];
        requestsPerApp.AddOrUpdate(appId, 1, (_, n) => n + 1);
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

        var answer = answers.GetValueOrDefault(appId);
        if (answer == AppEventAnswer.Redirect)
        {
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = "/events/" + appId + "-redirected";
            return;
        }

        if (answer == AppEventAnswer.Hang)
        {
            using var released = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, Volatile.Read(ref hangs).Token);
            try
            {
                await Task.Delay(Timeout.Infinite, released.Token);
            }
            catch (OperationCanceledException)
            {
            }

            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        lock (gate)
        {
            deliveries.Add(new AppEventDelivery(appId, headers, body));
        }

        if (answer == AppEventAnswer.EndlessBody)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            var chunk = new byte[16 * 1024];
            Array.Fill(chunk, (byte)'x');
            try
            {
                while (!context.RequestAborted.IsCancellationRequested)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(10, context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
            {
                // The caller went away.
            }

            return;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}
