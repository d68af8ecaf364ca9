using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Pan.Server.Apps;
using Pan.Server.Errors;
using Pan.Server.Members;
using Pan.Server.Network;
using Pan.Server.Sms;
using Pan.Server.Suspension;

namespace Pan.Server.Omniauth;

/// <summary>
/// The member center's social-login REST API (seed 001): <c>POST /api/v3/verification/through_omniauth</c>,
/// <c>POST /api/v3/verification/email_existed</c>, and <c>POST /api/v3/verification/refresh_token</c> (Pan's addition
/// for the refresh tokens it hands out). Bodies are forms or JSON objects; clients authenticate with
/// <c>client_id</c> = a registered Pan app id and <c>client_secret</c> = that app's secret. email_existed is
/// rate-limited and, as <c>Pan:Captcha:Mode</c> says, needs a reCAPTCHA token (<see cref="EmailExistedCaptcha"/>);
/// through_omniauth of a user bound to no member is rate-limited per client address (<see cref="UnboundSignInLimit"/>).
/// </summary>
public static class OmniauthEndpoints
{
    public const string Prefix = "/api/v3/verification";

    /// <summary>Longest accepted password; anything longer cannot be a Pan password and is refused before hashing.</summary>
    private const int MaxPasswordLength = 1024;

    public static IEndpointRouteBuilder MapPanOmniauth(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix);
        group.MapPost("/through_omniauth", (HttpContext context) => RunAsync(context, ThroughOmniauthAsync));
        group.MapPost("/email_existed", (HttpContext context) => RunAsync(context, EmailExistedAsync));
        group.MapPost("/refresh_token", (HttpContext context) => RunAsync(context, RefreshTokenAsync));
        return endpoints;
    }

    private static async Task<JsonNode> ThroughOmniauthAsync(HttpContext context, OmniauthParameters parameters, CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        var app = await ClientAsync(services, parameters, cancellationToken);
        var provider = parameters.Required("provider");
        if (!SocialProviders.All.Contains(provider))
        {
            throw OmniauthException.BadParameter("provider", "must be one of " + string.Join(", ", SocialProviders.All));
        }

        var token = Credential(parameters, "omniauth_token");
        string? secret = null, bundle = null, openId = null;
        if (provider == SocialProviders.Twitter)
        {
            secret = Credential(parameters, "omniauth_secret");
            bundle = Credential(parameters, "bundle_id");
        }
        else if (provider is SocialProviders.Qq or SocialProviders.WeChat)
        {
            openId = Credential(parameters, "open_id");
        }

        var email = parameters.Optional("email") is { } given
            ? EmailAddresses.Normalize(given) ?? throw OmniauthException.BadParameter("email", "is not a valid email address")
            : null;
        var password = parameters.Raw("password");
        if (password is { Length: > MaxPasswordLength })
        {
            throw OmniauthException.BadParameter("password", "is too long");
        }

        var ip = SmsKeys.Ip(ClientAddress.Of(context)) ?? "unknown";
        var request = new SocialSignInRequest(app, new ProviderCredentials(provider, token, secret, bundle, openId), email, password, ip);
        var (member, tokens) = await services.GetRequiredService<SocialSignIn>().SignInAsync(request, cancellationToken);
        return services.GetRequiredService<OmniauthResponses>().Success(member, tokens);
    }

    private static async Task<JsonNode> EmailExistedAsync(HttpContext context, OmniauthParameters parameters, CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        var app = await ClientAsync(services, parameters, cancellationToken);
        var limits = services.GetRequiredService<IOptions<OmniauthOptions>>().Value.EmailExisted;
        var counters = services.GetRequiredService<RateCounters>();
        // Why first: every call of an authorised client counts, also the malformed and the captcha-refused ones.
        var perClient = await counters.HitAsync("email_existed:client:" + app, limits.PerClientPerHour, cancellationToken);
        var ip = SmsKeys.Ip(ClientAddress.Of(context)) ?? "unknown";
        var perIp = await counters.HitAsync("email_existed:ip:" + ip, limits.PerIpPerHour, cancellationToken);
        if (perClient.RetryAfterSeconds is not null || perIp.RetryAfterSeconds is not null)
        {
            throw OmniauthException.TooManyRequests(Math.Max(perClient.RetryAfterSeconds ?? 0, perIp.RetryAfterSeconds ?? 0));
        }

        var email = EmailAddresses.Normalize(parameters.Required("email")) ?? throw OmniauthException.BadParameter("email", "is not a valid email address");
        var platform = EmailExistedCaptcha.ParsePlatform(parameters.Optional(EmailExistedCaptcha.PlatformParameter));
        await services.GetRequiredService<EmailExistedCaptcha>()
            .CheckAsync(perIp.Count, platform, parameters.Optional(EmailExistedCaptcha.TokenParameter), cancellationToken);
        var exists = await services.GetRequiredService<EmailDirectory>().ExistsAsync(email, cancellationToken);
        return new JsonObject { ["code"] = 200, ["message"] = "ok", ["data"] = exists };
    }

    private static async Task<JsonNode> RefreshTokenAsync(HttpContext context, OmniauthParameters parameters, CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        var app = await ClientAsync(services, parameters, cancellationToken);
        var refreshToken = parameters.Required("refresh_token");
        var refreshed = await services.GetRequiredService<OmniauthTokens>().RefreshAsync(refreshToken, app, cancellationToken)
            ?? throw OmniauthException.InvalidRefreshToken();
        return services.GetRequiredService<OmniauthResponses>().Success(refreshed.Member, refreshed.Tokens);
    }

    /// <summary>
    /// A provider credential (token, token secret, bundle id, open id): required, and visible ASCII only (400 otherwise).
    /// Why: no provider issues anything else, and such a value cannot travel where it goes (a bearer header refuses a
    /// NUL or a line break, which made the call to the provider fail as if it were unreachable: 503).
    /// </summary>
    private static string Credential(OmniauthParameters parameters, string name)
    {
        var value = parameters.Required(name);
        return value.All(c => c is > ' ' and < '\u007f') ? value : throw OmniauthException.BadParameter(name, "is not a valid credential");
    }

    /// <summary>The registered app named by client_id whose secret is client_secret (403 Not authorized client otherwise).</summary>
    private static async Task<string> ClientAsync(IServiceProvider services, OmniauthParameters parameters, CancellationToken cancellationToken)
    {
        var app = await services.GetRequiredService<AppRegistry>()
            .AuthenticateAsync(parameters.Optional("client_id"), parameters.Optional("client_secret"), cancellationToken);
        return app?.AppId ?? throw OmniauthException.NotAuthorizedClient();
    }

    /// <summary>Reads the parameters, runs the endpoint and writes the seed's envelope; failures never leak a stack trace.</summary>
    private static async Task RunAsync(HttpContext context, Func<HttpContext, OmniauthParameters, CancellationToken, Task<JsonNode>> endpoint)
    {
        var cancellationToken = context.RequestAborted;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OmniauthEndpoints));
        JsonNode body;
        var status = StatusCodes.Status200OK;
        try
        {
            // Why: refuse oversized bodies (also chunked ones without Content-Length) before parsing them (SECURITY 17).
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = OmniauthParameters.MaxBodyBytes;
            }

            var parameters = await OmniauthParameters.ReadAsync(context.Request, cancellationToken);
            body = await endpoint(context, parameters, cancellationToken);
        }
        catch (OmniauthException error)
        {
            status = error.Status;
            body = error.ToJson();
            if (error.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (MemberSuspendedException)
        {
            // Why here too: an access token for a suspended member is refused wherever it is minted (a refresh of a
            // family whose member was suspended meanwhile), not only where the sign-in checks it first.
            (status, body) = Envelope(OmniauthException.MemberSuspended());
        }
        catch (DependencyUnavailableException ex)
        {
            logger.LogWarning("A provider is unavailable: {Reason}", ex.Message);
            (status, body) = Envelope(OmniauthException.ProviderUnavailable());
        }
        catch (Exception ex) when (ErrorInterceptor.IsOutage(ex))
        {
            logger.LogWarning(ex, "The database is unavailable during {Path}", context.Request.Path);
            (status, body) = Envelope(OmniauthException.Unavailable());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (BadHttpRequestException)
        {
            (status, body) = Envelope(OmniauthException.BadParameter("body", "could not be read"));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Unhandled failure in {Path}", context.Request.Path);
            (status, body) = (StatusCodes.Status500InternalServerError, new JsonObject { ["code"] = 500, ["message"] = "Internal error" });
        }

        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(), cancellationToken);
    }

    private static (int, JsonNode) Envelope(OmniauthException error) => (error.Status, error.ToJson());
}
