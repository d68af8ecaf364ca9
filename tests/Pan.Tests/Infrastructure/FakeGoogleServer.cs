using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// A real HTTP server on 127.0.0.1 that speaks Google's OAuth 2.0 tokeninfo protocol: <c>GET /tokeninfo?access_token=…</c>
/// answers 200 with the token's facts as JSON (every value a string, as Google sends them: <c>email_verified</c>
/// "true"/"false", <c>expires_in</c> "3599") for a token registered with <see cref="Issue"/>, and 400
/// <c>{"error":"invalid_token","error_description":"Invalid Value"}</c> for any other. <see cref="FailWith"/> and
/// <see cref="Delay"/> simulate an outage or a slow Google.
/// </summary>
public sealed class FakeGoogleServer : IAsyncDisposable
{
    public const string ClientId = "pan-admin-console.apps.googleusercontent.com";

    private readonly ConcurrentDictionary<string, JsonObject> tokens = new(StringComparer.Ordinal);
    private readonly WebApplication app;

    private FakeGoogleServer(WebApplication app, Uri baseUri)
    {
        this.app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public Uri TokenInfoUrl => new(BaseUri, "/tokeninfo");

    public HttpStatusCode? FailWith { get; set; }

    public TimeSpan Delay { get; set; }

    /// <summary>The access tokens Pan asked about, in order.</summary>
    public ConcurrentQueue<string?> Received { get; } = new();

    /// <summary>Settings pointing Pan's admin sign-in at this server, with its client id.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["Pan:Admin:Google:TokenInfoUrl"] = TokenInfoUrl.ToString(),
        ["Pan:Admin:Google:ClientId"] = ClientId,
        ["Pan:Admin:Google:TimeoutSeconds"] = "1",
    };

    /// <summary>Makes an access token Google vouches for.</summary>
    public string Issue(string email, bool emailVerified = true, string audience = ClientId, int expiresIn = 3599)
    {
        var token = "ya29.fake-" + Guid.NewGuid().ToString("N");
        tokens[token] = new JsonObject
        {
            ["azp"] = audience,
            ["aud"] = audience,
            ["sub"] = "1" + Random.Shared.NextInt64(10_000_000_000, 99_999_999_999).ToString(CultureInfo.InvariantCulture),
            ["scope"] = "openid https://www.googleapis.com/auth/userinfo.email",
            ["exp"] = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + expiresIn).ToString(CultureInfo.InvariantCulture),
            ["expires_in"] = expiresIn.ToString(CultureInfo.InvariantCulture),
            ["email"] = email,
            ["email_verified"] = emailVerified ? "true" : "false",
            ["access_type"] = "online",
        };
        return token;
    }

    public static async Task<FakeGoogleServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        // Why: the test folder holds Pan.Server's appsettings.json (Kestrel endpoints on fixed ports); this server reads none of it.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeGoogleServer? fake = null;
        app.MapGet("/tokeninfo", (Delegate)((HttpContext context) => fake!.TokenInfoAsync(context)));
        await app.StartAsync();
        fake = new FakeGoogleServer(app, new Uri(app.Urls.First()));
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task<IResult> TokenInfoAsync(HttpContext context)
    {
        var token = context.Request.Query["access_token"].ToString();
        Received.Enqueue(token);
        if (Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return Results.StatusCode(499);
            }
        }

        if (FailWith is { } status)
        {
            return Results.Json(new JsonObject { ["error"] = "backend_error" }, statusCode: (int)status);
        }

        return tokens.TryGetValue(token, out var facts)
            ? Results.Json(facts)
            : Results.Json(new JsonObject { ["error"] = "invalid_token", ["error_description"] = "Invalid Value" }, statusCode: 400);
    }
}
