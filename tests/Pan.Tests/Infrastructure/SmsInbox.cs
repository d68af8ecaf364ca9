using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Pan.Tests.Infrastructure;

/// <summary>One message the inbox accepted.</summary>
/// <param name="To">The number, as sent (E.164).</param>
/// <param name="Text">The message text.</param>
/// <param name="Authorization">The request's Authorization header, if any.</param>
public sealed record SmsMessage(string To, string Text, string? Authorization);

/// <summary>
/// A real HTTP server on loopback speaking Pan's SMS webhook protocol (<c>POST {"to":"+886…","text":"…"}</c>, any 2xx
/// is success). Records every accepted message; can fail or delay the next requests. Thread-safe.
/// </summary>
/// <example>
/// <code>
/// await using var inbox = await SmsInbox.StartAsync();
/// await using var server = await PanServer.StartAsync(db, inbox.Settings());
/// … var code = await inbox.WaitForCodeAsync("+886912345678", TimeSpan.FromSeconds(10));
/// </code>
/// </example>
public sealed partial class SmsInbox : IAsyncDisposable
{
    private readonly object gate = new();
    private readonly List<SmsMessage> messages = [];
    private readonly Queue<Behaviour> next = new();
    private readonly WebApplication app;
    private TaskCompletionSource changed = NewSignal();
    private int requests;

    private SmsInbox(WebApplication app)
    {
        this.app = app;
    }

    /// <summary>The webhook URL (for <c>Pan:Sms:Webhook:Url</c>).</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Every accepted message, oldest first (a snapshot).</summary>
    public IReadOnlyList<SmsMessage> Messages
    {
        get
        {
            lock (gate)
            {
                return [.. messages];
            }
        }
    }

    /// <summary>
    /// Runs on every accepted message after it is recorded (so <see cref="WaitForCodeAsync"/> already sees it) and before
    /// the webhook answers, which it does with the status returned (200 accepts): a provider that delivers the text
    /// before Pan hears back. Null (the default): answer 200 at once.
    /// </summary>
    public Func<SmsMessage, Task<HttpStatusCode>>? BeforeAnswering { get; set; }

    /// <summary>Requests received, including failed, delayed and malformed ones (a provider's attempts).</summary>
    public int Requests => Volatile.Read(ref requests);

    public static async Task<SmsInbox> StartAsync()
    {
        // Why: an empty builder reads no appsettings.json (whose Kestrel endpoints would collide) and logs nothing.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var inbox = new SmsInbox(app);
        app.Run(inbox.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        inbox.Url = new Uri(new Uri(address), "/sms");
        return inbox;
    }

    /// <summary>Server settings that send SMS here (webhook provider, short retry delay).</summary>
    public Dictionary<string, string?> Settings(int retries = 2, int timeoutSeconds = 10) => new()
    {
        ["Pan:Sms:Provider"] = "webhook",
        ["Pan:Sms:Webhook:Url"] = Url.ToString(),
        ["Pan:Sms:Webhook:Retries"] = retries.ToString(CultureInfo.InvariantCulture),
        ["Pan:Sms:Webhook:TimeoutSeconds"] = timeoutSeconds.ToString(CultureInfo.InvariantCulture),
        ["Pan:Sms:Webhook:RetryDelayMilliseconds"] = "20",
    };

    /// <summary>Messages sent to <paramref name="toE164"/>, oldest first.</summary>
    public IReadOnlyList<SmsMessage> MessagesTo(string toE164)
    {
        lock (gate)
        {
            return [.. messages.Where(m => m.To == toE164)];
        }
    }

    /// <summary>Answers the next <paramref name="count"/> requests with <paramref name="status"/> without accepting them.</summary>
    public void FailNext(int count, HttpStatusCode status = HttpStatusCode.InternalServerError)
    {
        lock (gate)
        {
            for (var i = 0; i < count; i++)
            {
                next.Enqueue(new Behaviour(status, TimeSpan.Zero));
            }
        }
    }

    /// <summary>Forgets the failures and delays <see cref="FailNext"/> and <see cref="DelayNext"/> queued and not yet used: the provider is back.</summary>
    public void Recover()
    {
        lock (gate)
        {
            next.Clear();
        }
    }

    /// <summary>Holds the next <paramref name="count"/> requests for <paramref name="delay"/> before accepting them (a client that gives up first leaves nothing recorded).</summary>
    public void DelayNext(int count, TimeSpan delay)
    {
        lock (gate)
        {
            for (var i = 0; i < count; i++)
            {
                next.Enqueue(new Behaviour(null, delay));
            }
        }
    }

    /// <summary>
    /// The last 6-digit code sent to <paramref name="toE164"/>: at once if one was already sent, otherwise the first to
    /// arrive within <paramref name="timeout"/> (then <see cref="TimeoutException"/>).
    /// </summary>
    public async Task<string> WaitForCodeAsync(string toE164, TimeSpan timeout)
    {
        var message = await WaitForAsync(
            () => messages.LastOrDefault(m => m.To == toE164 && CodePattern().IsMatch(m.Text)),
            timeout, $"a code sent to {toE164}");
        return CodePattern().Matches(message.Text)[^1].Value;
    }

    /// <summary>Waits for the <paramref name="number"/>-th message (1-based) sent to <paramref name="toE164"/>.</summary>
    public Task<SmsMessage> WaitForMessageAsync(string toE164, int number, TimeSpan timeout) =>
        WaitForAsync(() => messages.Where(m => m.To == toE164).Skip(number - 1).FirstOrDefault(), timeout, $"message #{number} to {toE164}");

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task<SmsMessage> WaitForAsync(Func<SmsMessage?> find, TimeSpan timeout, string what)
    {
        using var expired = new CancellationTokenSource(timeout);
        while (true)
        {
            Task signal;
            lock (gate)
            {
                if (find() is { } found)
                {
                    return found;
                }

                signal = changed.Task;
            }

            try
            {
                await signal.WaitAsync(expired.Token);
            }
            catch (OperationCanceledException)
            {
                var received = string.Join(", ", Messages.Select(m => m.To));
                throw new TimeoutException($"No {what} within {timeout}; received messages to: [{received}].");
            }
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref requests);
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        Behaviour? behaviour;
        lock (gate)
        {
            next.TryDequeue(out behaviour);
        }

        if (behaviour is { Status: { } status })
        {
            context.Response.StatusCode = (int)status;
            return;
        }

        if (behaviour is { Delay: var delay } && delay > TimeSpan.Zero)
        {
            // Why: the delay ends early when the client gives up or the inbox stops, so disposal never waits it out.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, app.Lifetime.ApplicationStopping);
            try
            {
                await Task.Delay(delay, stop.Token);
            }
            catch (OperationCanceledException)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }
        }

        SmsMessage message;
        try
        {
            var body = await JsonSerializer.DeserializeAsync<WebhookBody>(context.Request.Body, cancellationToken: context.RequestAborted);
            if (body is not { To: { Length: > 0 } to, Text: { } text })
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            message = new SmsMessage(to, text, context.Request.Headers.Authorization.FirstOrDefault());
        }
        catch (JsonException)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        TaskCompletionSource signal;
        lock (gate)
        {
            messages.Add(message);
            signal = changed;
            changed = NewSignal();
        }

        signal.TrySetResult();
        if (BeforeAnswering is { } before && await before(message) is var answer && answer != HttpStatusCode.OK)
        {
            context.Response.StatusCode = (int)answer;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        await context.Response.WriteAsync("{\"accepted\":true}", context.RequestAborted);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [GeneratedRegex(@"\b\d{6}\b", RegexOptions.CultureInvariant)]
    private static partial Regex CodePattern();

    private sealed record Behaviour(HttpStatusCode? Status, TimeSpan Delay);

    private sealed record WebhookBody(
        [property: System.Text.Json.Serialization.JsonPropertyName("to")] string? To,
        [property: System.Text.Json.Serialization.JsonPropertyName("text")] string? Text);
}
