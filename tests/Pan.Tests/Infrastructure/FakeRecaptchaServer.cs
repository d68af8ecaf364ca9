using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Pan.Tests.Infrastructure;

/// <summary>One request the fake received: which API, and the fields Pan sent.</summary>
public sealed record RecaptchaRequest(string Api, string? Secret, string? Token, string? SiteKey, string? ProjectId, string? ApiKey);

/// <summary>
/// A real HTTP server on 127.0.0.1 that speaks Google's two reCAPTCHA protocols, so tests exercise Pan's HTTP code:
/// classic <c>POST /recaptcha/api/siteverify</c> (form <c>secret</c>, <c>response</c>) and Enterprise
/// <c>POST /v1/projects/{project}/assessments?key={apiKey}</c> (JSON <c>{"event":{"token","siteKey"}}</c>).
/// Tokens are single-use, like Google's. <see cref="Accept"/> registers a token Google would pass (with an optional
/// score); any other token fails. <see cref="FailWith"/> and <see cref="Delay"/> simulate an outage or a slow Google.
/// <see cref="Settings"/> points every Pan:Captcha platform at this server.
/// </summary>
public sealed class FakeRecaptchaServer : IAsyncDisposable
{
    public const string Secret = "fake-recaptcha-secret";
    public const string SiteKey = "fake-recaptcha-site-key";
    public const string ProjectId = "pan-fake-project";
    public const string ApiKey = "fake-recaptcha-api-key";

    private readonly ConcurrentDictionary<string, double?> accepted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> used = new(StringComparer.Ordinal);
    private readonly WebApplication app;

    private FakeRecaptchaServer(WebApplication app, Uri baseUri)
    {
        this.app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public Uri SiteVerifyUrl => new(BaseUri, "/recaptcha/api/siteverify");

    /// <summary>The value for <c>Pan:Captcha:EnterpriseBaseUrl</c>.</summary>
    public Uri EnterpriseBaseUrl => BaseUri;

    /// <summary>When set, every request is answered with this status (e.g. 500 or 503) and no verdict.</summary>
    public HttpStatusCode? FailWith { get; set; }

    /// <summary>Time to wait before answering (to test Pan's timeout); the wait ends early when the client gives up.</summary>
    public TimeSpan Delay { get; set; }

    public ConcurrentQueue<RecaptchaRequest> Received { get; } = new();

    /// <summary>Settings that point every platform of <c>Pan:Captcha</c> at this server.</summary>
    public Dictionary<string, string?> Settings(string mode = "always")
    {
        var settings = new Dictionary<string, string?>
        {
            ["Pan:Captcha:Mode"] = mode,
            ["Pan:Captcha:SiteVerifyUrl"] = SiteVerifyUrl.ToString(),
            ["Pan:Captcha:EnterpriseBaseUrl"] = EnterpriseBaseUrl.ToString(),
        };
        foreach (var platform in new[] { "Web", "Ios", "Android" })
        {
            settings[$"Pan:Captcha:Platforms:{platform}:Secret"] = Secret;
            settings[$"Pan:Captcha:Platforms:{platform}:SiteKey"] = SiteKey;
        }

        foreach (var platform in new[] { "IosEnterprise", "AndroidEnterprise" })
        {
            settings[$"Pan:Captcha:Platforms:{platform}:SiteKey"] = SiteKey;
            settings[$"Pan:Captcha:Platforms:{platform}:ProjectId"] = ProjectId;
            settings[$"Pan:Captcha:Platforms:{platform}:ApiKey"] = ApiKey;
        }

        return settings;
    }

    /// <summary>
    /// Makes <paramref name="token"/> one Google accepts once. <paramref name="score"/> null is a classic v2 answer
    /// (no score; Enterprise then reports 0.9); a value is a v3 / Enterprise score.
    /// </summary>
    public string Accept(string? token = null, double? score = null)
    {
        token ??= "captcha-" + Guid.NewGuid().ToString("N");
        accepted[token] = score;
        return token;
    }

    public static async Task<FakeRecaptchaServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        // Why: the test folder holds Pan.Server's appsettings.json (Kestrel endpoints on fixed ports); this server reads none of it.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeRecaptchaServer? fake = null;
        // Why the cast: a lambda taking only HttpContext would bind as a RequestDelegate and drop the IResult.
        app.MapPost("/recaptcha/api/siteverify", (Delegate)((HttpContext context) => fake!.SiteVerifyAsync(context)));
        app.MapPost("/v1/projects/{project}/assessments", (HttpContext context, string project) => fake!.AssessAsync(context, project));
        await app.StartAsync();
        fake = new FakeRecaptchaServer(app, new Uri(app.Urls.First()));
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task<IResult> SiteVerifyAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        string? secret = form["secret"], token = form["response"];
        Received.Enqueue(new RecaptchaRequest("siteverify", secret, token, null, null, null));
        if (await TroubleAsync(context) is { } trouble)
        {
            return trouble;
        }

        if (secret != Secret)
        {
            return Results.Json(new JsonObject { ["success"] = false, ["error-codes"] = new JsonArray("invalid-input-secret") });
        }

        if (string.IsNullOrEmpty(token))
        {
            return Results.Json(new JsonObject { ["success"] = false, ["error-codes"] = new JsonArray("missing-input-response") });
        }

        if (!accepted.TryGetValue(token, out var score))
        {
            return Results.Json(new JsonObject { ["success"] = false, ["error-codes"] = new JsonArray("invalid-input-response") });
        }

        if (!used.TryAdd(token, true))
        {
            return Results.Json(new JsonObject { ["success"] = false, ["error-codes"] = new JsonArray("timeout-or-duplicate") });
        }

        var answer = new JsonObject
        {
            ["success"] = true,
            ["challenge_ts"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ["hostname"] = "localhost",
        };
        if (score is { } s)
        {
            answer["score"] = s;
            answer["action"] = "login";
        }

        return Results.Json(answer);
    }

    private async Task<IResult> AssessAsync(HttpContext context, string project)
    {
        var key = context.Request.Query["key"].ToString();
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException)
        {
            return GoogleError(HttpStatusCode.BadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received.");
        }

        var token = body?["event"]?["token"]?.GetValue<string>();
        var siteKey = body?["event"]?["siteKey"]?.GetValue<string>();
        Received.Enqueue(new RecaptchaRequest("assessments", null, token, siteKey, project, key));
        if (await TroubleAsync(context) is { } trouble)
        {
            return trouble;
        }

        if (key != ApiKey || project != ProjectId)
        {
            return GoogleError(HttpStatusCode.Forbidden, "PERMISSION_DENIED", "API key not valid for this project.");
        }

        string invalidReason = "INVALID_REASON_UNSPECIFIED";
        var valid = false;
        double? score = null;
        if (string.IsNullOrEmpty(token))
        {
            invalidReason = "MISSING";
        }
        else if (siteKey != SiteKey || !accepted.TryGetValue(token, out score))
        {
            invalidReason = "MALFORMED";
        }
        else if (!used.TryAdd(token, true))
        {
            invalidReason = "DUPE";
        }
        else
        {
            valid = true;
        }

        return Results.Json(new JsonObject
        {
            ["name"] = $"projects/{project}/assessments/{Guid.NewGuid():N}",
            ["event"] = new JsonObject { ["token"] = token, ["siteKey"] = siteKey },
            ["riskAnalysis"] = new JsonObject { ["score"] = valid ? score ?? 0.9 : 0.0, ["reasons"] = new JsonArray() },
            ["tokenProperties"] = new JsonObject
            {
                ["valid"] = valid,
                ["invalidReason"] = invalidReason,
                ["hostname"] = valid ? "localhost" : string.Empty,
                ["action"] = valid ? "login" : string.Empty,
            },
        });
    }

    private async Task<IResult?> TroubleAsync(HttpContext context)
    {
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

        return FailWith is { } status ? GoogleError(status, "UNAVAILABLE", "The service is currently unavailable.") : null;
    }

    private static IResult GoogleError(HttpStatusCode status, string code, string message) =>
        Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = (int)status, ["message"] = message, ["status"] = code } },
            statusCode: (int)status);
}
