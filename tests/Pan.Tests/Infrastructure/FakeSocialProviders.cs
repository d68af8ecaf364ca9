using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Pan.Tests.Infrastructure;

/// <summary>A user as a fake provider knows it. <see cref="Email"/> null: the provider has no email for the user.</summary>
public sealed record SocialUser(string Id, string Name, string? Email, bool EmailVerified = true);

/// <summary>What a client holds after signing in with a provider (the inputs of through_omniauth).</summary>
public sealed record SocialLogin(string Provider, string Token, string? Secret = null, string? BundleId = null, string? OpenId = null, SocialUser? User = null);

/// <summary>
/// One real HTTP server on 127.0.0.1 that speaks the seven providers' APIs, each under its own path prefix:
/// Facebook Graph <c>/facebook/me</c>; Google OpenID user-info <c>/google/userinfo</c> and JWKS <c>/google/certs</c>
/// (ID tokens are RS256 JWTs signed by a key generated here); Twitter OAuth 1.0a
/// <c>/twitter/1.1/account/verify_credentials.json</c>, which checks the request's HMAC-SHA1 signature with its own
/// RFC 5849 code; LinkedIn <c>/linkedin/v2/userinfo</c>; QQ Connect <c>/qq/oauth2.0/me</c> (JSONP, as QQ answers)
/// and <c>/qq/user/get_user_info</c>; WeChat <c>/wechat/sns/userinfo</c>; Microsoft Graph <c>/microsoft/v1.0/me</c>.
/// Unknown tokens get each provider's own error answer. <see cref="FailWith"/> and <see cref="Delay"/> simulate an outage.
/// </summary>
public sealed partial class FakeSocialProviders : IAsyncDisposable
{
    public const string GoogleClientId = "pan-mobile.apps.googleusercontent.com";
    public const string TwitterBundle = "com.example.pan.ios";
    public const string TwitterConsumerKey = "fake-consumer-key";
    public const string TwitterConsumerSecret = "fake-consumer-secret";
    public const string QqAppId = "101234567";
    public const string FacebookAppSecret = "fake-facebook-app-secret";
    public const string LinkedInClientId = "86fakelinkedin";
    public const string LinkedInClientSecret = "fake-linkedin-client-secret";
    public const string MicrosoftClientId = "5f2b6c1e-8d3a-4e7b-9c0d-1a2b3c4d5e6f";
    public const string MicrosoftKeyId = "fake-microsoft-key-1";
    public const string MicrosoftTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    public const string MicrosoftConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad";
    public const string GraphAppId = "00000003-0000-0000-c000-000000000000";

    private readonly ConcurrentDictionary<(string Provider, string Token), (SocialUser User, string? Secret, string? Client)> tokens = new();
    private readonly RSA googleKey = RSA.Create(2048);
    private readonly RSA microsoftKey = RSA.Create(2048);
    private readonly RSA graphKey = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, bool> inactiveLinkedIn = new();
    private readonly WebApplication app;

    private FakeSocialProviders(WebApplication app, Uri baseUri)
    {
        this.app = app;
        BaseUri = baseUri;
        // Why: RSA generates its key lazily; make it now, not inside the first JWKS request Pan times.
        googleKey.ExportParameters(false);
        microsoftKey.ExportParameters(false);
        graphKey.ExportParameters(false);
    }

    public Uri BaseUri { get; }

    public const string GoogleKeyId = "fake-google-key-1";

    public HttpStatusCode? FailWith { get; set; }

    public TimeSpan Delay { get; set; }

    /// <summary>Requests the server answered, as "provider path" lines (for asserting which API was called).</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>Twitter requests whose OAuth 1.0a signature did not verify.</summary>
    public ConcurrentQueue<string> BadSignatures { get; } = new();

    /// <summary>Settings pointing every provider of Pan's social login at this server.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        // Why: long enough for a loaded test machine, short enough for the slow-provider test (which waits longer).
        ["Pan:Omniauth:TimeoutSeconds"] = "2",
        ["Pan:Omniauth:Facebook:GraphBaseUrl"] = Url("facebook"),
        ["Pan:Omniauth:Facebook:AppSecret"] = FacebookAppSecret,
        ["Pan:Omniauth:Google:UserInfoUrl"] = Url("google/userinfo"),
        ["Pan:Omniauth:Google:JwksUrl"] = Url("google/certs"),
        ["Pan:Omniauth:Google:TokenInfoUrl"] = Url("google/tokeninfo"),
        ["Pan:Omniauth:Google:ClientIds:0"] = GoogleClientId,
        ["Pan:Omniauth:Twitter:BaseUrl"] = Url("twitter"),
        [$"Pan:Omniauth:Twitter:Apps:{TwitterBundle}:ConsumerKey"] = TwitterConsumerKey,
        [$"Pan:Omniauth:Twitter:Apps:{TwitterBundle}:ConsumerSecret"] = TwitterConsumerSecret,
        ["Pan:Omniauth:LinkedIn:UserInfoUrl"] = Url("linkedin/v2/userinfo"),
        ["Pan:Omniauth:LinkedIn:IntrospectionUrl"] = Url("linkedin/oauth/v2/introspectToken"),
        ["Pan:Omniauth:LinkedIn:ClientId"] = LinkedInClientId,
        ["Pan:Omniauth:LinkedIn:ClientSecret"] = LinkedInClientSecret,
        ["Pan:Omniauth:Qq:BaseUrl"] = Url("qq"),
        ["Pan:Omniauth:Qq:AppIds:0"] = QqAppId,
        ["Pan:Omniauth:WeChat:BaseUrl"] = Url("wechat"),
        ["Pan:Omniauth:Microsoft:GraphBaseUrl"] = Url("microsoft"),
        ["Pan:Omniauth:Microsoft:JwksUrl"] = Url("microsoft/keys"),
        ["Pan:Omniauth:Microsoft:ClientIds:0"] = MicrosoftClientId,
    };
    public static async Task<FakeSocialProviders> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        // Why: the test folder holds Pan.Server's appsettings.json (Kestrel endpoints on fixed ports); this server reads none of it.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeSocialProviders? fake = null;
        app.Use(async (context, next) =>
        {
            fake!.Calls.Enqueue(context.Request.Path.Value ?? string.Empty);
            if (fake.Delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(fake.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            if (fake.FailWith is { } status)
            {
                context.Response.StatusCode = (int)status;
                await context.Response.WriteAsync("{\"error\":\"backend_error\"}");
                return;
            }

            await next(context);
        });
        app.MapGet("/facebook/me", (HttpContext c) => fake!.Facebook(c));
        app.MapGet("/google/userinfo", (HttpContext c) => fake!.Bearer(c, "google_oauth2", u => OpenIdClaims(u)));
        app.MapGet("/google/certs", () => Jwks(fake!.googleKey, GoogleKeyId));
        app.MapGet("/google/tokeninfo", (HttpContext c) => fake!.GoogleTokenInfo(c));
        app.MapGet("/twitter/1.1/account/verify_credentials.json", (HttpContext c) => fake!.Twitter(c));
        app.MapGet("/linkedin/v2/userinfo", (HttpContext c) => fake!.Bearer(c, "linkedin", u => OpenIdClaims(u)));
        app.MapPost("/linkedin/oauth/v2/introspectToken", (Func<HttpContext, Task<IResult>>)(c => fake!.LinkedInIntrospection(c)));
        app.MapGet("/microsoft/keys", () => Jwks(fake!.microsoftKey, MicrosoftKeyId));
        app.MapGet("/qq/oauth2.0/me", (HttpContext c) => fake!.QqMe(c));
        app.MapGet("/qq/user/get_user_info", (HttpContext c) => fake!.QqUserInfo(c));
        app.MapGet("/wechat/sns/userinfo", (HttpContext c) => fake!.WeChat(c));
        app.MapGet("/microsoft/v1.0/me", (HttpContext c) => fake!.Bearer(c, "microsoft_graph", u => new JsonObject
        {
            ["id"] = u.Id,
            ["displayName"] = u.Name,
            ["mail"] = u.Email,
            ["userPrincipalName"] = u.Email ?? u.Id + "@contoso.onmicrosoft.com",
        }));
        await app.StartAsync();
        fake = new FakeSocialProviders(app, new Uri(app.Urls.First()));
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        googleKey.Dispose();
        microsoftKey.Dispose();
        graphKey.Dispose();
    }

    private static string Random() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    private string Url(string path) => new Uri(BaseUri, path).ToString();
}
