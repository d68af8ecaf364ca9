using System.Globalization;
using System.Text;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Pan.Server.Pages;
using Pan.Server.Pages.SignIn;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>
/// The question /connect/endsession asks before it signs a browser out, unless the request proves an app of the
/// signed-in member sent it: an id_token_hint naming that member (OpenIddict has checked its signature and issuer, and
/// its audience against client_id). Why: OIDC RP-Initiated Logout 1.0 section 2 says the provider MUST ask without
/// such a hint; without the question, any site could end the member's Pan session with a link or a form. The page
/// (no script, no framing) posts the logout request back with <see cref="ConfirmParameter"/>, a data-protected token
/// naming the browser's auth session that lives <see cref="Lifetime"/>; only that POST signs out without a hint.
/// </summary>
public static class EndSessionPage
{
    public const string ConfirmParameter = "pan_logout";

    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>Whether the logout request may end <paramref name="member"/>'s session without asking.</summary>
    public static async Task<bool> IsConfirmedAsync(HttpContext context, SignedInMember member)
    {
        var hint = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        if (hint.Principal?.GetClaim(Claims.Subject) == OAuthMembers.Subject(member.ObjectId))
        {
            return true;
        }

        var token = (string?)context.GetOpenIddictServerRequest()?[ConfirmParameter];
        if (!HttpMethods.IsPost(context.Request.Method) || token is not { Length: > 0 and <= 1024 })
        {
            return false;
        }

        string payload;
        try
        {
            payload = Protector(context).Unprotect(token);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }

        var parts = payload.Split(':');
        return parts.Length == 2
               && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sessionId) && sessionId == member.SessionId
               && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
               && Now(context).ToUnixTimeSeconds() < expires;
    }

    /// <summary>The question: the logout request's own parameters and the confirmation token, posted back to /connect/endsession.</summary>
    public static IResult Ask(HttpContext context, SignedInMember member)
    {
        var language = PageLanguage.Of(context.Request);
        var text = OAuthPageText.For(language);
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        var expires = Now(context).Add(Lifetime).ToUnixTimeSeconds();
        var token = Protector(context).Protect(string.Create(CultureInfo.InvariantCulture, $"{member.SessionId}:{expires}"));
        // Why relative: the page is /connect/endsession, and behind a proxy that adds a path prefix the browser must stay under it.
        var html = new StringBuilder("<p>").Append(HtmlPage.E(text.SignOutQuestion)).Append("</p><form method=\"post\" action=\"endsession\">");
        foreach (var (name, value) in request.GetParameters())
        {
            if (name != ConfirmParameter && (string?)value is { Length: > 0 } plain)
            {
                html.Append(HtmlPage.Hidden(name, plain));
            }
        }

        html.Append(HtmlPage.Hidden(ConfirmParameter, token));
        html.Append("<button type=\"submit\">").Append(HtmlPage.E(text.SignOut)).Append("</button></form>");
        var result = HtmlPage.Render(context, language, text.SignOutTitle, html.ToString());
        // Why: browsers check form-action against the redirect that follows the post, to the app's registered post-logout URI.
        if (Uri.TryCreate(request.PostLogoutRedirectUri, UriKind.Absolute, out var back))
        {
            context.Response.Headers.ContentSecurityPolicy = ConsentPage.Policy(back, null);
        }

        return result;
    }

    private static IDataProtector Protector(HttpContext context) =>
        context.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector("Pan.OAuth.EndSession.v1");

    private static DateTimeOffset Now(HttpContext context) => context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
}
