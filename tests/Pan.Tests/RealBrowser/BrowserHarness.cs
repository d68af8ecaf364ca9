using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.RealBrowser;

/// <summary>
/// The test's side of a browser run, on a loopback port of its own: <c>GET /sms-code?to=…&amp;after=…&amp;n=…</c> hands the
/// script the code of the n-th SMS after the first <c>after</c> ones (read from the real SMS webhook inbox, waiting for
/// it to arrive), and <c>/callback</c> is an OAuth client's redirect URI that records what it received.
/// </summary>
public sealed class BrowserHarness : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly SmsInbox inbox;
    private readonly List<Uri> callbacks = [];

    private BrowserHarness(WebApplication app, SmsInbox inbox)
    {
        this.app = app;
        this.inbox = inbox;
    }

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The OAuth client's redirect URI served here.</summary>
    public Uri CallbackUrl => new(BaseUrl, "/callback");

    /// <summary>Every request the redirect URI received, oldest first.</summary>
    public IReadOnlyList<Uri> Callbacks
    {
        get
        {
            lock (callbacks)
            {
                return [.. callbacks];
            }
        }
    }

    public static async Task<BrowserHarness> StartAsync(SmsInbox inbox)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        var harness = new BrowserHarness(app, inbox);
        app.UseRouting();
        app.MapGet("/sms-code", (Delegate)harness.CodeAsync);
        app.MapGet("/callback", (Delegate)harness.Callback);
        await app.StartAsync();
        harness.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return harness;
    }

    /// <summary>The URL the script asks for SMS codes to <paramref name="e164"/> sent after the ones already there.</summary>
    public string CodeUrl(string e164) =>
        new Uri(BaseUrl, $"/sms-code?to={Uri.EscapeDataString(e164)}&after={inbox.MessagesTo(e164).Count.ToString(CultureInfo.InvariantCulture)}").ToString();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task<IResult> CodeAsync(HttpContext context)
    {
        var query = context.Request.Query;
        if (!int.TryParse(query["after"], CultureInfo.InvariantCulture, out var after) || !int.TryParse(query["n"], CultureInfo.InvariantCulture, out var n))
        {
            return Results.BadRequest("after and n are required");
        }

        try
        {
            return Results.Text(await Pan.Tests.PhoneFlows.Phones.NthCodeAsync(inbox, query["to"].ToString(), after + n));
        }
        catch (TimeoutException ex)
        {
            return Results.NotFound(ex.Message);
        }
    }

    private IResult Callback(HttpContext context)
    {
        lock (callbacks)
        {
            callbacks.Add(new Uri(Microsoft.AspNetCore.Http.Extensions.UriHelper.GetEncodedUrl(context.Request)));
        }

        return Results.Content("<!DOCTYPE html><title>Client</title><p>The client received the answer.</p>", "text/html");
    }
}
