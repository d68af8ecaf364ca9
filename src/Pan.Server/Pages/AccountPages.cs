using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Pan.Server.Email;
using Pan.Server.Links;

namespace Pan.Server.Pages;

/// <summary>Pan's hosted account pages: email verification and password reset (server-rendered HTML, no script).</summary>
public static class AccountPages
{
    /// <summary>Antiforgery for the reset form, with its key ring in the database (shared by every node).</summary>
    public static IServiceCollection AddPanAccountPages(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("pan");
        services.AddOptions<KeyManagementOptions>().Configure<IServiceScopeFactory>((o, scopes) => o.XmlRepository = new DatabaseXmlRepository(scopes));
        services.AddAntiforgery(o =>
        {
            o.FormFieldName = "af";
            o.Cookie.Name = "pan_af";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // Why: the pages send X-Frame-Options DENY themselves (antiforgery would say SAMEORIGIN).
            o.SuppressXFrameOptionsHeader = true;
        });
        // Why from the base URL: behind a proxy that publishes Pan under a prefix (https://example.com/pan), the browser
        // sees /pan/account and must send the cookie there.
        services.AddOptions<AntiforgeryOptions>().Configure<IOptions<LinksOptions>>((o, links) =>
            o.Cookie.Path = (Uri.TryCreate(links.Value.PublicBaseUrl, UriKind.Absolute, out var root) ? root.AbsolutePath.TrimEnd('/') : string.Empty) + "/account");
        return services;
    }

    public static WebApplication MapPanAccountPages(this WebApplication app)
    {
        // Why the casts: a handler taking only HttpContext would otherwise bind as a RequestDelegate and drop its IResult.
        app.MapGet(PagePaths.VerifyEmail, (Delegate)VerifyEmailPage.GetAsync);
        app.MapGet(PagePaths.ResetPassword, (Delegate)ResetPasswordPage.GetAsync);
        app.MapPost(PagePaths.ResetPassword, (Delegate)ResetPasswordPage.PostAsync);
        return app;
    }
}
