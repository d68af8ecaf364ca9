using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

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
public sealed class FakeSocialProviders : IAsyncDisposable
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

    /// <summary>A user the provider knows, and the token (and secret / open id) a client would hold for it.</summary>
    public SocialLogin SignIn(string provider, SocialUser user)
    {
        var token = provider switch
        {
            "twitter" => "1234-" + Random(),
            "microsoft_graph" => GraphAccessToken(user, MicrosoftClientId),
            _ => "tok-" + Random(),
        };
        var secret = provider == "twitter" ? Random() : null;
        tokens[(provider, token)] = (user, secret, provider switch
        {
            "qq_connect" => QqAppId,
            "google_oauth2" => GoogleClientId,
            "linkedin" => LinkedInClientId,
            "microsoft_graph" => MicrosoftClientId,
            _ => null,
        });
        return provider switch
        {
            "twitter" => new SocialLogin(provider, token, secret, TwitterBundle, User: user),
            "qq_connect" or "wechat" => new SocialLogin(provider, token, OpenId: user.Id, User: user),
            _ => new SocialLogin(provider, token, User: user),
        };
    }

    /// <summary>A QQ token issued to another QQ app than Pan's.</summary>
    public SocialLogin SignInQqForAnotherApp(SocialUser user)
    {
        var login = SignIn("qq_connect", user);
        tokens[("qq_connect", login.Token)] = (user, null, "999999");
        return login;
    }

    /// <summary>A Google access token issued to another OAuth client than Pan's.</summary>
    public SocialLogin SignInGoogleForAnotherClient(SocialUser user)
    {
        var login = SignIn("google_oauth2", user);
        tokens[("google_oauth2", login.Token)] = (user, null, "someone-else.apps.googleusercontent.com");
        return login;
    }

    /// <summary>A LinkedIn token issued to another LinkedIn app than Pan's (introspection names that app).</summary>
    public SocialLogin SignInLinkedInForAnotherClient(SocialUser user)
    {
        var login = SignIn("linkedin", user);
        tokens[("linkedin", login.Token)] = (user, null, "77anotherapp");
        return login;
    }

    /// <summary>A LinkedIn token of Pan's app that introspection reports inactive (revoked) while user-info still answers.</summary>
    public SocialLogin SignInLinkedInRevoked(SocialUser user)
    {
        var login = SignIn("linkedin", user);
        inactiveLinkedIn[login.Token] = true;
        return login;
    }

    /// <summary>
    /// A Graph access token for <paramref name="user"/> as Microsoft issues them to work or school accounts: a JWT for
    /// Graph naming the app (<c>appid</c>, or <c>azp</c> with <paramref name="v2"/>), signed by a key Pan does not know
    /// (Graph's). Graph (this server) accepts it. <paramref name="appId"/> null leaves the app out.
    /// </summary>
    public string SignInMicrosoftAccessToken(SocialUser user, string? appId, bool v2 = false)
    {
        var token = GraphAccessToken(user, appId, v2);
        tokens[("microsoft_graph", token)] = (user, null, appId);
        return token;
    }

    /// <summary>An opaque Graph access token (as personal accounts get), which Graph accepts.</summary>
    public string SignInMicrosoftOpaqueToken(SocialUser user)
    {
        var token = "EwB" + Random() + Random();
        tokens[("microsoft_graph", token)] = (user, null, null);
        return token;
    }

    /// <summary>
    /// A Microsoft identity platform v2.0 ID token for <paramref name="user"/>, signed by the published key unless
    /// <paramref name="otherKey"/>. A work or school user's <c>oid</c> is its Graph id; a personal user's (tenant
    /// <see cref="MicrosoftConsumerTenant"/>) is <c>00000000-0000-0000-</c> and its 16-digit Graph id.
    /// </summary>
    public string MicrosoftIdToken(SocialUser user, DateTimeOffset now, string audience = MicrosoftClientId, string tenant = MicrosoftTenant,
        string? issuer = null, TimeSpan? lifetime = null, bool otherKey = false, IDictionary<string, object>? extra = null)
    {
        var key = otherKey ? new RsaSecurityKey(RSA.Create(2048)) { KeyId = MicrosoftKeyId } : new RsaSecurityKey(microsoftKey) { KeyId = MicrosoftKeyId };
        var oid = tenant == MicrosoftConsumerTenant ? "00000000-0000-0000-" + user.Id[..4] + "-" + user.Id[4..] : user.Id;
        var claims = new Dictionary<string, object>
        {
            ["oid"] = oid,
            ["tid"] = tenant,
            ["sub"] = "pairwise-" + Random(),
            ["name"] = user.Name,
            ["preferred_username"] = user.Email ?? user.Id + "@contoso.onmicrosoft.com",
            ["ver"] = "2.0",
        };
        if (user.Email is not null)
        {
            claims["email"] = user.Email;
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, object>())
        {
            claims[name] = value;
        }

        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? $"https://login.microsoftonline.com/{tenant}/v2.0",
            Audience = audience,
            IssuedAt = (expires - TimeSpan.FromHours(1)).UtcDateTime,
            NotBefore = (expires - TimeSpan.FromHours(1)).UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>A Google ID token (RS256) for <paramref name="user"/>, signed by the published key unless <paramref name="otherKey"/>.</summary>
    public string GoogleIdToken(SocialUser user, DateTimeOffset now, string audience = GoogleClientId, string issuer = "https://accounts.google.com",
        TimeSpan? lifetime = null, bool otherKey = false)
    {
        var key = otherKey ? new RsaSecurityKey(RSA.Create(2048)) { KeyId = GoogleKeyId } : new RsaSecurityKey(googleKey) { KeyId = GoogleKeyId };
        var claims = new Dictionary<string, object> { ["sub"] = user.Id, ["name"] = user.Name, ["email_verified"] = user.EmailVerified };
        if (user.Email is not null)
        {
            claims["email"] = user.Email;
        }

        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = (expires - TimeSpan.FromHours(1)).UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    private string GraphAccessToken(SocialUser user, string? appId, bool v2 = false)
    {
        var claims = new Dictionary<string, object> { ["oid"] = user.Id, ["tid"] = MicrosoftTenant, ["scp"] = "openid profile email User.Read" };
        if (appId is not null)
        {
            claims[v2 ? "azp" : "appid"] = appId;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = $"https://sts.windows.net/{MicrosoftTenant}/",
            Audience = GraphAppId,
            Claims = claims,
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(graphKey) { KeyId = "graph-key" }, SecurityAlgorithms.RsaSha256),
        });
    }

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

    private static JsonObject OpenIdClaims(SocialUser u) => new()
    {
        ["sub"] = u.Id,
        ["name"] = u.Name,
        ["email"] = u.Email,
        ["email_verified"] = u.Email is not null && u.EmailVerified,
    };

    private IResult Facebook(HttpContext context)
    {
        var query = context.Request.Query;
        var token = query["access_token"].ToString();
        var proof = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(FacebookAppSecret), Encoding.UTF8.GetBytes(token)));
        if (!tokens.TryGetValue(("facebook", token), out var entry) || query["appsecret_proof"] != proof || query["fields"] != "id,name,email")
        {
            return Results.Json(new JsonObject
            {
                ["error"] = new JsonObject { ["message"] = "Invalid OAuth access token data.", ["type"] = "OAuthException", ["code"] = 190 },
            }, statusCode: 400);
        }

        var me = new JsonObject { ["id"] = entry.User.Id, ["name"] = entry.User.Name };
        if (entry.User.Email is not null)
        {
            me["email"] = entry.User.Email;
        }

        return Results.Json(me);
    }

    private IResult Bearer(HttpContext context, string provider, Func<SocialUser, JsonObject> body)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : string.Empty;
        return tokens.TryGetValue((provider, token), out var entry)
            ? Results.Json(body(entry.User))
            : Results.Json(new JsonObject { ["error"] = "invalid_token" }, statusCode: 401);
    }

    /// <summary>Google's tokeninfo: the token's client (aud, azp) and lifetime, every value a string as Google sends them.</summary>
    private IResult GoogleTokenInfo(HttpContext context)
    {
        return tokens.TryGetValue(("google_oauth2", context.Request.Query["access_token"].ToString()), out var entry)
            ? Results.Json(new JsonObject
            {
                ["azp"] = entry.Client,
                ["aud"] = entry.Client,
                ["sub"] = entry.User.Id,
                ["scope"] = "openid email profile",
                ["expires_in"] = "3599",
            })
            : Results.Json(new JsonObject { ["error"] = "invalid_token", ["error_description"] = "Invalid Value" }, statusCode: 400);
    }

    /// <summary>
    /// LinkedIn's introspectToken: the calling app must authenticate (client_id, client_secret); the answer names the
    /// token's app, <c>active</c>/<c>status</c> and <c>expires_at</c> (epoch seconds). An unknown token is inactive.
    /// </summary>
    private async Task<IResult> LinkedInIntrospection(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        if (form["client_id"] != LinkedInClientId || form["client_secret"] != LinkedInClientSecret)
        {
            return Results.Json(new JsonObject { ["error"] = "invalid_client", ["error_description"] = "Client authentication failed" }, statusCode: 401);
        }

        var token = form["token"].ToString();
        if (!tokens.TryGetValue(("linkedin", token), out var entry))
        {
            return Results.Json(new JsonObject { ["active"] = false });
        }

        var active = !inactiveLinkedIn.ContainsKey(token);
        return Results.Json(new JsonObject
        {
            ["active"] = active,
            ["client_id"] = entry.Client,
            ["authorized_at"] = 1767225600,
            ["created_at"] = 1767225600,
            ["status"] = active ? "active" : "revoked",
            ["expires_at"] = 1767225600 + 365 * 86400,
            ["scope"] = "openid,profile,email",
            ["auth_type"] = "3L",
        });
    }

    private static IResult Jwks(RSA key, string keyId)
    {
        var p = key.ExportParameters(false);
        return Results.Json(new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA",
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["kid"] = keyId,
                ["n"] = Base64UrlEncoder.Encode(p.Modulus),
                ["e"] = Base64UrlEncoder.Encode(p.Exponent),
            }),
        });
    }

    private IResult Twitter(HttpContext context)
    {
        var oauth = ParseOAuthHeader(context.Request.Headers.Authorization.ToString());
        var token = oauth.GetValueOrDefault("oauth_token") ?? string.Empty;
        var invalid = Results.Json(new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = 89, ["message"] = "Invalid or expired token." }) }, statusCode: 401);
        if (!tokens.TryGetValue(("twitter", token), out var entry) || oauth.GetValueOrDefault("oauth_consumer_key") != TwitterConsumerKey)
        {
            return invalid;
        }

        var request = context.Request;
        var baseUrl = $"{request.Scheme}://{request.Host.Value!.ToLowerInvariant()}{request.PathBase}{request.Path}";
        var pairs = request.Query.SelectMany(q => q.Value.Select(v => (q.Key, Value: v ?? string.Empty)))
            .Concat(oauth.Where(p => p.Key != "oauth_signature").Select(p => (p.Key, p.Value)))
            .Select(p => Rfc3986(p.Key) + "=" + Rfc3986(p.Value))
            .Order(StringComparer.Ordinal);
        var baseString = "GET&" + Rfc3986(baseUrl) + "&" + Rfc3986(string.Join('&', pairs));
        // Why: the protocol's algorithm (RFC 5849 HMAC-SHA1).
#pragma warning disable CA5350
        using var hmac = new HMACSHA1(Encoding.ASCII.GetBytes(Rfc3986(TwitterConsumerSecret) + "&" + Rfc3986(entry.Secret!)));
        var expected = Convert.ToBase64String(hmac.ComputeHash(Encoding.ASCII.GetBytes(baseString)));
#pragma warning restore CA5350
        if (oauth.GetValueOrDefault("oauth_signature") != expected || oauth.GetValueOrDefault("oauth_signature_method") != "HMAC-SHA1")
        {
            BadSignatures.Enqueue(baseString);
            return Results.Json(new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = 32, ["message"] = "Could not authenticate you." }) }, statusCode: 401);
        }

        var user = new JsonObject
        {
            ["id"] = long.Parse(entry.User.Id, CultureInfo.InvariantCulture),
            ["id_str"] = entry.User.Id,
            ["name"] = entry.User.Name,
            ["screen_name"] = "u" + entry.User.Id,
        };
        if (entry.User.Email is not null && request.Query["include_email"] == "true")
        {
            user["email"] = entry.User.Email;
        }

        return Results.Json(user);
    }

    private IResult QqMe(HttpContext context)
    {
        var token = context.Request.Query["access_token"].ToString();
        var body = tokens.TryGetValue(("qq_connect", token), out var entry)
            ? new JsonObject { ["client_id"] = entry.Client, ["openid"] = entry.User.Id }
            : new JsonObject { ["error"] = 100016, ["error_description"] = "access token check failed" };
        // Why: QQ answers JSONP whatever fmt says on many deployments; Pan must read it.
        return Results.Text("callback( " + body.ToJsonString() + " );\n", "text/html");
    }

    private IResult QqUserInfo(HttpContext context)
    {
        var query = context.Request.Query;
        var ok = tokens.TryGetValue(("qq_connect", query["access_token"].ToString()), out var entry)
            && query["openid"] == entry.User.Id && query["oauth_consumer_key"] == entry.Client;
        return Results.Json(ok
            ? new JsonObject { ["ret"] = 0, ["msg"] = "", ["nickname"] = entry.User.Name, ["figureurl_qq_2"] = "http://qzapp.qlogo.cn/qzapp/x/100" }
            : new JsonObject { ["ret"] = 100030, ["msg"] = "this api without user authorization" });
    }

    private IResult WeChat(HttpContext context)
    {
        var query = context.Request.Query;
        return tokens.TryGetValue(("wechat", query["access_token"].ToString()), out var entry) && query["openid"] == entry.User.Id
            ? Results.Json(new JsonObject { ["openid"] = entry.User.Id, ["nickname"] = entry.User.Name, ["unionid"] = "u-" + entry.User.Id })
            : Results.Json(new JsonObject { ["errcode"] = 40001, ["errmsg"] = "invalid credential, access_token is invalid or not latest" });
    }

    /// <summary>Parses <c>OAuth k="v", …</c> (values percent-decoded).</summary>
    private static Dictionary<string, string> ParseOAuthHeader(string header)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!header.StartsWith("OAuth ", StringComparison.Ordinal))
        {
            return result;
        }

        foreach (var part in header["OAuth ".Length..].Split(','))
        {
            var kv = part.Trim().Split('=', 2);
            if (kv.Length == 2)
            {
                result[Uri.UnescapeDataString(kv[0])] = Uri.UnescapeDataString(kv[1].Trim('"'));
            }
        }

        return result;
    }

    /// <summary>RFC 3986 §2.1 percent-encoding of UTF-8 bytes, written out byte by byte (independent of Pan's signer).</summary>
    private static string Rfc3986(string value)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
