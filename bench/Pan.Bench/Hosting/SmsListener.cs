using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Pan.Bench.Hosting;

/// <summary>
/// The bench's own SMS provider: a loopback HTTP server speaking Pan's webhook protocol
/// (<c>POST {"to":"+886…","text":"…"}</c>) that keeps the last code per phone until a flow takes it.
/// A flow owns its phone while it runs, so the last code for a phone is that flow's code.
/// </summary>
public sealed partial class SmsListener : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> codes = new();
    private long received;

    private SmsListener(WebApplication app)
    {
        this.app = app;
    }

    /// <summary>The webhook URL for <c>Pan:Sms:Webhook:Url</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Messages received so far.</summary>
    public long Received => Interlocked.Read(ref received);

    public static async Task<SmsListener> StartAsync()
    {
        // Why: an empty builder reads no appsettings and logs nothing; the listener must stay cheap under load.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var listener = new SmsListener(app);
        app.Run(listener.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        listener.Url = new Uri(new Uri(address), "/sms");
        return listener;
    }

    /// <summary>Forgets any code for <paramref name="e164"/>; call before starting a flow on it.</summary>
    public void Forget(string e164) => codes.TryRemove(e164, out _);

    /// <summary>The code sent to <paramref name="e164"/> (waiting up to <paramref name="timeout"/>), removed once taken.</summary>
    public async Task<string> TakeCodeAsync(string e164, TimeSpan timeout)
    {
        var slot = codes.GetOrAdd(e164, _ => NewSlot());
        var code = await slot.Task.WaitAsync(timeout);
        codes.TryRemove(new KeyValuePair<string, TaskCompletionSource<string>>(e164, slot));
        return code;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var to = body.RootElement.TryGetProperty("to", out var t) ? t.GetString() : null;
        var text = body.RootElement.TryGetProperty("text", out var x) ? x.GetString() : null;
        var match = text is null ? null : CodePattern().Match(text);
        if (to is null || match is not { Success: true })
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        Interlocked.Increment(ref received);
        var slot = codes.GetOrAdd(to, _ => NewSlot());
        if (!slot.TrySetResult(match.Value))
        {
            // A resend before the last code was taken: the newest code wins.
            var fresh = NewSlot();
            fresh.SetResult(match.Value);
            codes[to] = fresh;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private static TaskCompletionSource<string> NewSlot() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [GeneratedRegex(@"\b\d{6}\b", RegexOptions.CultureInvariant)]
    private static partial Regex CodePattern();
}
