using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Pan.Server.Links;

namespace Pan.Server.Pages.SignIn;

/// <summary>The hosted sign-in pages and the member cookie (<see cref="MemberCookie"/>) they issue.</summary>
public static class SignInPages
{
    public const string CookieName = "pan_member";

    public static IServiceCollection AddPanSignInPages(this IServiceCollection services)
    {
        services.AddOptions<SignInOptions>().BindConfiguration(SignInOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<SignInOptions>, SignInOptionsValidator>();
        services.AddScoped<MemberSignIn>();
        // Why no default scheme (and not the automatic one ASP.NET Core makes of a lone scheme): gRPC and JSON calls
        // authenticate with tokens, never with the cookie; the pages and the OAuth endpoints ask for MemberCookie.Scheme by name.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication()
            .AddCookie(MemberCookie.Scheme, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                // Why Lax: the OAuth client sends the browser back to /connect/authorize with a top-level GET from its own
                // site; Strict would drop the cookie there. Lax still keeps it off cross-site POSTs and sub-requests.
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.IsEssential = true;
                o.LoginPath = MemberCookie.SignInPath;
                o.LogoutPath = SignInPaths.SignOut;
                o.AccessDeniedPath = MemberCookie.SignInPath;
                o.ReturnUrlParameter = MemberCookie.ReturnUrlParameter;
                o.SlidingExpiration = false;
                o.Events.OnValidatePrincipal = MemberSessionCheck.ValidateAsync;
            });
        services.AddOptions<CookieAuthenticationOptions>(MemberCookie.Scheme).Configure<IOptions<SignInOptions>, IOptions<LinksOptions>>((o, signIn, links) =>
        {
            o.Cookie.SecurePolicy = signIn.Value.CookieSecure == MemberCookieSecurity.Always ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = signIn.Value.CookieLifetime;
            // Why the whole site (under a proxy's prefix): the OAuth endpoints (/connect/…) read the cookie as well as /account.
            o.Cookie.Path = (Uri.TryCreate(links.Value.PublicBaseUrl, UriKind.Absolute, out var root) ? root.AbsolutePath.TrimEnd('/') : string.Empty) + "/";
        });
        return services;
    }

    public static WebApplication MapPanSignInPages(this WebApplication app)
    {
        // Why the casts: a handler taking only HttpContext would otherwise bind as a RequestDelegate and drop its IResult.
        app.MapGet(SignInPaths.SignIn, (Delegate)SignInPage.GetAsync);
        app.MapPost(SignInPaths.SignIn, (Delegate)SignInPage.PostPhoneAsync);
        app.MapPost(SignInPaths.Code, (Delegate)SignInPage.PostCodeAsync);
        app.MapPost(SignInPaths.Choose, (Delegate)SignInPage.PostChoiceAsync);
        app.MapGet(SignInPaths.SignedIn, (Delegate)SignInPage.SignedInAsync);
        app.MapPost(SignInPaths.SignOut, (Delegate)SignInPage.PostSignOutAsync);
        app.MapGet(SignInPaths.Email, (Delegate)EmailSignInPage.Get);
        app.MapPost(SignInPaths.Email, (Delegate)EmailSignInPage.PostAsync);
        return app;
    }
}
