using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Pan.Server.Links;
using Pan.Server.Pages;
using Pan.Server.Pages.SignIn;

namespace Pan.Server.OAuth;

/// <summary>
/// /account/consent?request=…: GET shows the app (name, logo, summary, privacy and terms links) and what it asks for,
/// with Allow / Deny and "remember" (only for a client whose identity is assured, <see cref="OAuthClient.IdentityAssured"/>;
/// otherwise a line saying the app is asked about each time, and a posted "remember" is ignored); POST (antiforgery) records the decision and sends the browser back to
/// /connect/authorize, which redirects to the app with the code or with error=access_denied. Only the member who
/// started the request can see or decide it. No script; the page's CSP additionally allows the app's logo origin as an
/// image source and the app's redirect origin as a form target (browsers check form-action on the redirects that
/// follow a form post).
/// </summary>
public static class ConsentPage
{
    private const long MaxFormBytes = 8 * 1024;

    public static async Task<IResult> GetAsync(HttpContext context)
    {
        var language = PageLanguage.Of(context.Request);
        var text = OAuthPageText.For(language);
        var id = context.Request.Query["request"].ToString();
        var member = await context.RequestServices.GetRequiredService<OAuthMembers>().CurrentAsync(context);
        if (member is null)
        {
            return SignIn(context, $"{OAuthPaths.ConsentPage}?request={Uri.EscapeDataString(id)}");
        }

        var pending = await context.RequestServices.GetRequiredService<ConsentRequests>().FindOpenAsync(id, member.Uid, context.RequestAborted);
        var client = pending is null ? null : await context.RequestServices.GetRequiredService<OAuthClients>().FindAsync(pending.ClientId, context.RequestAborted);
        if (pending is null || client is null)
        {
            return HtmlPage.Render(context, language, text.ConsentTitle, Error(text.RequestGone), StatusCodes.Status400BadRequest);
        }

        var tokens = OAuthMembers.FormTokens(context, member);
        var logo = Uri.TryCreate(client.LogoUrl, UriKind.Absolute, out var logoUri) && logoUri.Scheme == Uri.UriSchemeHttps ? logoUri : null;
        var html = new StringBuilder();
        if (logo is not null)
        {
            html.Append("<p><img src=\"").Append(HtmlPage.E(logo.AbsoluteUri)).Append("\" alt=\"\" width=\"64\" height=\"64\"></p>");
        }

        html.Append("<p><strong>").Append(HtmlPage.E(client.Name)).Append("</strong> ").Append(HtmlPage.E(text.Wants)).Append("</p><ul>");
        foreach (var line in OAuthScopes.Describe(pending.Scopes, language))
        {
            html.Append("<li>").Append(HtmlPage.E(line)).Append("</li>");
        }

        html.Append("</ul>");
        if (!string.IsNullOrEmpty(client.Summary))
        {
            html.Append("<p>").Append(HtmlPage.E(client.Summary)).Append("</p>");
        }

        AppendLink(html, client.PrivacyUrl, text.Privacy);
        AppendLink(html, client.TermsUrl, text.Terms);
        html.Append("<form method=\"post\" action=\"consent?lang=").Append(HtmlPage.E(Uri.EscapeDataString(language))).Append("\">")
            .Append("<input type=\"hidden\" name=\"").Append(HtmlPage.E(tokens.FormFieldName)).Append("\" value=\"").Append(HtmlPage.E(tokens.RequestToken)).Append("\">")
            .Append("<input type=\"hidden\" name=\"request\" value=\"").Append(HtmlPage.E(id)).Append("\">")
            .Append(client.IdentityAssured
                ? $"<label><input type=\"checkbox\" name=\"remember\" value=\"true\" checked> {HtmlPage.E(text.Remember)}</label>"
                : $"<p>{HtmlPage.E(text.AsksEachTime)}</p>")
            .Append("<button type=\"submit\" name=\"decision\" value=\"approve\">").Append(HtmlPage.E(text.Approve)).Append("</button> ")
            .Append("<button type=\"submit\" name=\"decision\" value=\"reject\">").Append(HtmlPage.E(text.Reject)).Append("</button></form>");
        var result = HtmlPage.Render(context, language, text.ConsentTitle, html.ToString());
        // Why the client's redirect URI when the request named none: OpenIddict then answers at the client's one registered URI.
        var redirect = pending.RedirectUri ?? (client.RedirectUris is [var only] && Uri.TryCreate(only, UriKind.Absolute, out var registered) ? registered : null);
        context.Response.Headers.ContentSecurityPolicy = Policy(redirect, logo);
        return result;
    }

    public static async Task<IResult> PostAsync(HttpContext context)
    {
        var language = PageLanguage.Of(context.Request);
        var text = OAuthPageText.For(language);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxFormBytes;
        }

        if (!context.Request.HasFormContentType)
        {
            return HtmlPage.Render(context, language, text.ConsentTitle, Error(text.FormExpired), StatusCodes.Status400BadRequest);
        }

        // Why the member first: the form token is bound to the member it was issued to (OAuthMembers.IsFormValidAsync).
        var member = await context.RequestServices.GetRequiredService<OAuthMembers>().CurrentAsync(context);
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var id = form["request"].ToString();
        if (member is null)
        {
            return SignIn(context, $"{OAuthPaths.ConsentPage}?request={Uri.EscapeDataString(id)}");
        }

        if (!await OAuthMembers.IsFormValidAsync(context, member))
        {
            return HtmlPage.Render(context, language, text.ConsentTitle, Error(text.FormExpired), StatusCodes.Status400BadRequest);
        }

        var approve = form["decision"].ToString() == "approve";
        var parameters = await context.RequestServices.GetRequiredService<ConsentRequests>().DecideAsync(
            id, member.Uid, approve, [], remember: approve && form["remember"].ToString() == "true", context.RequestAborted);
        if (parameters is null)
        {
            return HtmlPage.Render(context, language, text.ConsentTitle, Error(text.RequestGone), StatusCodes.Status400BadRequest);
        }

        var links = context.RequestServices.GetRequiredService<IOptions<LinksOptions>>().Value;
        return Results.Redirect($"{links.Base}/{OAuthPaths.Authorize}?{parameters}&{OAuthPaths.ConsentParameter}={Uri.EscapeDataString(id)}");
    }

    /// <summary>The sign-in page, returning to <paramref name="localUrl"/>.</summary>
    internal static IResult SignIn(HttpContext context, string localUrl)
    {
        var links = context.RequestServices.GetRequiredService<IOptions<LinksOptions>>().Value;
        var returnUrl = OAuthServiceCollectionExtensions.Issuer(links).AbsolutePath.TrimEnd('/') + localUrl;
        return Results.Redirect($"{links.Base}{MemberCookie.SignInPath}?{MemberCookie.ReturnUrlParameter}={Uri.EscapeDataString(returnUrl)}");
    }

    internal static string Error(string message) => $"<p class=\"error\">{HtmlPage.E(message)}</p>";

    private static void AppendLink(StringBuilder html, string? url, string label)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
        {
            html.Append("<p><a href=\"").Append(HtmlPage.E(uri.AbsoluteUri)).Append("\" rel=\"noopener noreferrer\">").Append(HtmlPage.E(label)).Append("</a></p>");
        }
    }

    /// <summary>The pages' policy, also allowing <paramref name="redirect"/>'s origin as a form target and <paramref name="logo"/>'s as an image source.</summary>
    internal static string Policy(Uri? redirect, Uri? logo)
    {
        var target = redirect is null ? null : redirect.Scheme is "http" or "https" ? redirect.GetLeftPart(UriPartial.Authority) : redirect.Scheme + ":";
        var policy = target is null
            ? HtmlPage.ContentSecurityPolicy
            : HtmlPage.ContentSecurityPolicy.Replace("form-action 'self'", $"form-action 'self' {target}", StringComparison.Ordinal);
        return logo is null ? policy : $"{policy}; img-src {logo.GetLeftPart(UriPartial.Authority)}";
    }
}
