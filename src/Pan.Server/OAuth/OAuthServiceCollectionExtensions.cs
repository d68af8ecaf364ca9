using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenIddict.Core;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using Pan.Data;
using Pan.Server.Links;
using Pan.Server.Members;
using Pan.Server.Pages.SignIn;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>The OAuth 2.0 / OpenID Connect provider (OpenIddict), its pages and its gRPC services.</summary>
public static class OAuthServiceCollectionExtensions
{
    public static IServiceCollection AddPanOAuth(this IServiceCollection services)
    {
        services.AddOptions<OAuthOptions>().BindConfiguration(OAuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<OAuthOptions>, OAuthOptionsValidator>();
        services.AddSingleton<OAuthKeyMaker>();
        services.AddSingleton<OAuthKeyRing>();
        services.AddHostedService<OAuthKeyStartup>();
        services.AddHostedService<OAuthJanitor>();
        services.AddSingleton<OAuthPipeline>();
        services.AddScoped<ConsentRequests>();
        services.AddScoped<OAuthClients>();
        services.AddScoped<OAuthMembers>();
        services.AddScoped<OAuthDetails>();
        services.AddScoped<Deletion.IMemberDataEraser, OAuthMemberEraser>();
        services.AddScoped<Credentials.IPasswordChangeRevoker, OAuthPasswordChangeRevoker>();
        AddMemberCookieWhenMissing(services);

        services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<PanDbContext>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris(OAuthPaths.Authorize)
                    .SetTokenEndpointUris(OAuthPaths.Token)
                    .SetRevocationEndpointUris(OAuthPaths.Revoke)
                    .SetIntrospectionEndpointUris(OAuthPaths.Introspect)
                    .SetUserInfoEndpointUris(OAuthPaths.UserInfo)
                    .SetEndSessionEndpointUris(OAuthPaths.EndSession)
                    .SetJsonWebKeySetEndpointUris(OAuthPaths.Jwks);
                // Why only these: no implicit, hybrid, password or client-credentials grants; PKCE is required, and
                // "plain" is removed from the challenge methods below, so S256 is the only one.
                o.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow().RequireProofKeyForCodeExchange();
                o.RegisterScopes(OAuthScopes.Names);
                // Why: OpenIddict answers a scope the client lacks the permission for with a local invalid_request page;
                // the authorize handler checks every scope (openid and offline_access too) against the client's list
                // itself and redirects invalid_scope to the client as RFC 6749 4.1.2.1 says.
                o.IgnoreScopePermissions();
                // Why: access tokens are signed JWTs (not encrypted) so an app's API may check them offline with the
                // JWKS; introspection (which also reports revocation) works for either.
                o.DisableAccessTokenEncryption();
                o.AddEventHandler(OAuthRepeatedParameters.Descriptor);
                o.AddEventHandler(OAuthQueryTokens.Descriptor);
                o.AddEventHandler(OAuthEndSessionClient.Descriptor);
                o.AddEventHandler(OAuthGenerations.IntrospectionCheck.Descriptor);
                o.AddEventHandler(KeyCatchUp.Descriptor);
                o.AddEventHandler(OAuthGrantRevocation.RefreshTokenRevocationLock.Descriptor);
                o.AddEventHandler(OAuthGrantRevocation.RefreshTokenRevocation.Descriptor);
                // Why OpenIddict's redemption handler goes: Pan's two redeem the code's and the refresh token's entries
                // themselves, with what a lost race means (OAuthGrantRevocation); OpenIddict's then only read the entry
                // again to find it redeemed. Pan allows no other grant that redeems an entry (device codes).
                o.RemoveEventHandler(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor);
                o.AddEventHandler(OAuthGrantRevocation.CodeRedemption.Descriptor);
                o.AddEventHandler(OAuthGrantRevocation.RefreshTokenRedemption.Descriptor);
                o.AddEventHandler(OAuthGrantRevocation.SharedGrantIssue.Descriptor);
                o.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough();
            });

        services.AddOptions<OpenIddictServerOptions>().Configure<OAuthKeyRing, IOptions<OAuthOptions>, IOptions<LinksOptions>, TimeProvider>(
            (o, keys, oauth, links, clock) =>
            {
                keys.Apply(o);
                o.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain);
                o.Issuer = Issuer(links.Value);
                o.TimeProvider = clock;
                o.AccessTokenLifetime = TimeSpan.FromMinutes(oauth.Value.AccessTokenMinutes);
                o.RefreshTokenLifetime = TimeSpan.FromDays(oauth.Value.RefreshTokenDays);
                o.AuthorizationCodeLifetime = TimeSpan.FromSeconds(oauth.Value.AuthorizationCodeSeconds);
                o.RefreshTokenReuseLeeway = TimeSpan.FromSeconds(oauth.Value.RefreshTokenReuseLeewaySeconds);
            });
        services.AddOptions<OpenIddictServerAspNetCoreOptions>().Configure<IOptions<OAuthOptions>>(
            (o, oauth) => o.DisableTransportSecurityRequirement = oauth.Value.AllowHttpOnLoopback);
        services.AddOptions<OpenIddictCoreOptions>().Configure<TimeProvider>((o, clock) => o.TimeProvider = clock);
        return services;
    }

    /// <summary>
    /// Remembers the rest of the request pipeline, so the gRPC services can run /connect/authorize and /connect/token
    /// in-process (<see cref="OAuthPipeline"/>). Call it before UseRouting.
    /// </summary>
    public static WebApplication UsePanOAuthPipeline(this WebApplication app)
    {
        var pipeline = app.Services.GetRequiredService<OAuthPipeline>();
        app.Use(next =>
        {
            pipeline.Attach(next);
            return next;
        });
        return app;
    }

    /// <summary>Authentication (OpenIddict's endpoints and the member cookie) and the provider's endpoints and pages.</summary>
    public static WebApplication MapPanOAuth(this WebApplication app)
    {
        // Why first: OpenIddict handles the token request in the authentication middleware, which must run inside it
        // (and /connect/authorize's writes, from the consent request to the code's entry, commit together).
        app.UsePanTokenTransaction();
        // Why only there: the authentication middleware asks OpenIddict's request handler to inspect every request, and
        // member API calls (nearly all traffic) never concern it; on every path it doubled the CPU of the cheapest gRPC
        // call (bench/, BENCHMARKS.md). The pages authenticate the member cookie themselves.
        app.UseWhen(c => OAuthPaths.IsProviderRequest(c.Request.Path), branch => branch.UseAuthentication());
        // Why: WebApplication puts UseAuthentication in front of the whole pipeline unless the app called it, and a call
        // on a branch is not seen there; this is the mark UseAuthentication itself leaves (AuthAppBuilderExtensions).
        ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
        // Why the casts: a handler taking only HttpContext would otherwise bind as a RequestDelegate and drop its IResult.
        app.MapMethods("/" + OAuthPaths.Authorize, [HttpMethods.Get, HttpMethods.Post], (Delegate)AuthorizeEndpoint.HandleAsync);
        app.MapPost("/" + OAuthPaths.Token, (Delegate)TokenEndpoint.HandleAsync);
        app.MapMethods("/" + OAuthPaths.UserInfo, [HttpMethods.Get, HttpMethods.Post], (Delegate)TokenEndpoint.UserInfoAsync);
        app.MapMethods("/" + OAuthPaths.EndSession, [HttpMethods.Get, HttpMethods.Post], (Delegate)TokenEndpoint.EndSessionAsync);
        app.MapGet(OAuthPaths.ConsentPage, (Delegate)ConsentPage.GetAsync);
        app.MapPost(OAuthPaths.ConsentPage, (Delegate)ConsentPage.PostAsync);
        app.MapGet(OAuthPaths.AppsPage, (Delegate)MyAppsPage.GetAsync);
        app.MapPost(OAuthPaths.AppsPage, (Delegate)MyAppsPage.PostAsync);
        return app;
    }

    /// <summary>The issuer: Pan:Links:PublicBaseUrl with a trailing slash (discovery documents carry it so).</summary>
    public static Uri Issuer(LinksOptions links) => new(links.Base + "/", UriKind.Absolute);

    /// <summary>
    /// Why: the sign-in pages (Pages/SignIn) own the member cookie and register its scheme; until they do, a cookie
    /// handler with default settings is registered under <see cref="MemberCookie.Scheme"/> so the authorize endpoint and
    /// the consent pages can read it. Once the scheme exists this adds nothing.
    /// </summary>
    private static void AddMemberCookieWhenMissing(IServiceCollection services)
    {
        services.AddAuthentication();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<CookieAuthenticationOptions>, PostConfigureCookieAuthenticationOptions>());
        services.PostConfigure<AuthenticationOptions>(o =>
        {
            if (!o.SchemeMap.ContainsKey(MemberCookie.Scheme))
            {
                o.AddScheme<CookieAuthenticationHandler>(MemberCookie.Scheme, null);
            }
        });
        services.AddOptions<CookieAuthenticationOptions>(MemberCookie.Scheme).Configure(o =>
        {
            o.Cookie.Name ??= "pan_member";
            o.LoginPath = MemberCookie.SignInPath;
            o.ReturnUrlParameter = MemberCookie.ReturnUrlParameter;
        });
    }

    private sealed class OAuthOptionsValidator(IOptions<LinksOptions> links) : IValidateOptions<OAuthOptions>
    {
        public ValidateOptionsResult Validate(string? name, OAuthOptions options)
        {
            if (!Uri.TryCreate(links.Value.PublicBaseUrl, UriKind.Absolute, out var issuer))
            {
                return ValidateOptionsResult.Fail("Pan:Links:PublicBaseUrl must be an absolute URL: it is the OAuth issuer.");
            }

            if (options.AllowHttpOnLoopback && !(issuer.IsLoopback || IPAddress.TryParse(issuer.Host, out var ip) && IPAddress.IsLoopback(ip)))
            {
                return ValidateOptionsResult.Fail("Pan:OAuth:AllowHttpOnLoopback is only allowed when Pan:Links:PublicBaseUrl is on a loopback address.");
            }

            return options.ConsentApps.FirstOrDefault(a => AppIds.Normalize(a) is null) is { } unknown
                ? ValidateOptionsResult.Fail($"Pan:OAuth:ConsentApps: '{unknown}' is not an app of the contract (AppId: jkforum, jkfpost, … or their numbers).")
                : ValidateOptionsResult.Success;
        }
    }
}

/// <summary>Where the provider's endpoints and pages are (OpenIddict takes them relative to the issuer).</summary>
public static class OAuthPaths
{
    public const string Authorize = "connect/authorize";
    public const string Token = "connect/token";
    public const string Revoke = "connect/revoke";
    public const string Introspect = "connect/introspect";
    public const string UserInfo = "connect/userinfo";
    public const string EndSession = "connect/endsession";
    public const string Jwks = ".well-known/jwks";
    public const string ConsentPage = "/account/consent";
    public const string AppsPage = "/account/apps";

    /// <summary>Whether OpenIddict serves <paramref name="path"/>: its endpoints under /connect and the discovery documents.</summary>
    public static bool IsProviderRequest(PathString path) =>
        path.StartsWithSegments("/connect", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/.well-known", StringComparison.OrdinalIgnoreCase);

    /// <summary>The extra authorize parameter that finishes a decided consent request (see <see cref="ConsentRequests"/>).</summary>
    public const string ConsentParameter = "pan_consent";

    /// <summary>
    /// The extra authorize parameter (Unix milliseconds) of a request coming back from a forced sign-in (prompt=login,
    /// max_age): the member cookie must be issued after it.
    /// </summary>
    public const string SignedInAfterParameter = "pan_signed_in_after";
}
