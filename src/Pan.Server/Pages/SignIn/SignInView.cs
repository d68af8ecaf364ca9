using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Pan.Data.Members;
using Pan.Server.Accounts;

namespace Pan.Server.Pages.SignIn;

/// <summary>The HTML of the sign-in pages: small forms, every value encoded, no script.</summary>
internal sealed class SignInView(HttpContext context, string language, string returnUrl)
{
    public SignInText Text { get; } = SignInText.For(language);

    public string Language => language;

    public string ReturnUrl => returnUrl;

    private AntiforgeryTokenSet Tokens => tokens ??= context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);

    private AntiforgeryTokenSet? tokens;

    private int CodeMinutes => context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<PhaseSessions.PhaseSessionOptions>>().Value.CodeMinutes;

    /// <summary>A page path under /account with the language and the returnUrl. Why relative: behind a proxy that adds a path prefix, the browser stays under it.</summary>
    public string Link(string page, string? lang = null) =>
        $"{page}?lang={Uri.EscapeDataString(lang ?? language)}&{MemberCookie.ReturnUrlParameter}={Uri.EscapeDataString(returnUrl)}";

    public IResult Page(string title, string body, int status = StatusCodes.Status200OK) =>
        HtmlPage.Render(context, language, title, body, status);

    public IResult PhoneForm(string? error = null, int status = StatusCodes.Status200OK, string countryCode = "886", string phone = "")
    {
        var html = new StringBuilder(Error(error));
        html.Append(FormStart(SignInPaths.SignInPage))
            .Append(Field("country_code", Text.CountryCode, "text", countryCode, "tel-country-code", "inputmode=\"tel\" maxlength=\"5\""))
            .Append(Field("phone", Text.Phone, "tel", phone, "tel-national", "maxlength=\"40\""))
            .Append(Submit(Text.SendCode)).Append("</form>")
            .Append("<p><a href=\"").Append(HtmlPage.E(Link(SignInPaths.EmailPage))).Append("\">").Append(HtmlPage.E(Text.UseEmail)).Append("</a></p>")
            .Append(LanguageSwitch(SignInPaths.SignInPage));
        return Page(Text.SignInTitle, html.ToString(), status);
    }

    public IResult CodeForm(string flow, string? error = null, string? notice = null, int status = StatusCodes.Status200OK)
    {
        var html = new StringBuilder(Error(error));
        if (notice is not null)
        {
            html.Append("<p>").Append(HtmlPage.E(notice)).Append("</p>");
        }

        html.Append("<p>").Append(HtmlPage.E(string.Format(CultureInfo.InvariantCulture, Text.CodeSent, CodeMinutes))).Append("</p>")
            .Append(FormStart(SignInPaths.CodePage)).Append(Hidden("flow", flow))
            .Append(Field("code", Text.Code, "text", string.Empty, "one-time-code", "inputmode=\"numeric\" pattern=\"[0-9]{6}\" maxlength=\"6\""))
            .Append(Submit(Text.SignIn)).Append("</form>")
            .Append(FormStart(SignInPaths.CodePage)).Append(Hidden("flow", flow)).Append(Hidden("resend", "1"))
            .Append(Submit(Text.Resend)).Append("</form>")
            .Append("<p><a href=\"").Append(HtmlPage.E(Link(SignInPaths.SignInPage))).Append("\">").Append(HtmlPage.E(Text.OtherNumber)).Append("</a></p>");
        return Page(Text.CodeTitle, html.ToString(), status);
    }

    public IResult Chooser(string ticket, IReadOnlyList<Member> members, string? error = null, int status = StatusCodes.Status200OK)
    {
        var html = new StringBuilder(Error(error)).Append("<p>").Append(HtmlPage.E(Text.ChooseIntro)).Append("</p>");
        foreach (var member in members)
        {
            var name = member.DisplayName ?? member.ObjectId.ToString("D");
            html.Append(FormStart(SignInPaths.ChoosePage)).Append(Hidden("ticket", ticket)).Append(Hidden("member", member.ObjectId.ToString("D")))
                .Append(Submit(string.Format(CultureInfo.CurrentCulture, Text.ContinueAs, name))).Append("</form>");
        }

        return Page(Text.ChooseTitle, html.ToString(), status);
    }

    /// <summary>The email form; with <paramref name="flow"/>, the second form of a member with a security question (password again and the answer).</summary>
    public IResult EmailForm(string? error = null, int status = StatusCodes.Status200OK, string identifier = "", string? flow = null)
    {
        var html = new StringBuilder(Error(error));
        html.Append(FormStart(SignInPaths.EmailPage));
        if (flow is not null)
        {
            html.Append("<p>").Append(HtmlPage.E(Text.AnswerNeeded)).Append("</p>").Append(Hidden("flow", flow)).Append(Hidden("identifier", identifier));
        }
        else
        {
            html.Append(Field("identifier", Text.Email, "text", identifier, "username", "maxlength=\"320\""));
        }

        html.Append(Field("password", Text.Password, "password", string.Empty, "current-password", "maxlength=\"1024\""));
        if (flow is not null)
        {
            html.Append(Field("answer", Text.Answer, "text", string.Empty, "off", "maxlength=\"256\""));
        }

        html.Append(Submit(Text.SignIn)).Append("</form>")
            .Append("<p><a href=\"").Append(HtmlPage.E(Link(SignInPaths.SignInPage))).Append("\">").Append(HtmlPage.E(Text.UsePhone)).Append("</a></p>")
            .Append(LanguageSwitch(SignInPaths.EmailPage));
        return Page(Text.EmailTitle, html.ToString(), status);
    }

    public IResult SignedIn(string displayName, bool forward)
    {
        var html = new StringBuilder()
            .Append("<p>").Append(HtmlPage.E(string.Format(CultureInfo.CurrentCulture, Text.SignedInAs, displayName))).Append("</p>")
            .Append("<p><a class=\"button\" href=\"").Append(HtmlPage.E(returnUrl)).Append("\">").Append(HtmlPage.E(Text.Continue)).Append("</a></p>")
            .Append(FormStart(SignInPaths.SignOutPage)).Append(Submit(Text.SignOut)).Append("</form>");
        if (!forward)
        {
            html.Append(LanguageSwitch(SignInPaths.SignInPage));
        }

        // Why a refresh rather than a redirect from the form's POST: Chromium checks form-action against every redirect
        // that follows a form submission, and returnUrl (the OAuth authorize endpoint) may redirect to the client's site.
        return forward
            ? HtmlPage.Render(context, language, Text.SignedInTitle, html.ToString(), refresh: new Uri(returnUrl, UriKind.Relative), refreshSeconds: 0)
            : Page(Text.SignedInTitle, html.ToString());
    }

    /// <summary>An error page with a link back to the start.</summary>
    public IResult Refused(string message, int status) =>
        Page(Text.SignInTitle, Error(message) + "<p><a href=\"" + HtmlPage.E(Link(SignInPaths.SignInPage)) + "\">" + HtmlPage.E(Text.SignInTitle) + "</a></p>", status);

    private string FormStart(string page)
    {
        var action = $"{page}?lang={Uri.EscapeDataString(language)}";
        return "<form method=\"post\" action=\"" + HtmlPage.E(action) + "\">" + Hidden(Tokens.FormFieldName, Tokens.RequestToken ?? string.Empty)
               + Hidden(MemberCookie.ReturnUrlParameter, returnUrl);
    }

    private static string Hidden(string name, string value) => HtmlPage.Hidden(name, value);

    private static string Field(string name, string label, string type, string value, string autocomplete, string extra) =>
        $"<label for=\"{name}\">{HtmlPage.E(label)}</label><input id=\"{name}\" name=\"{name}\" type=\"{type}\" value=\"{HtmlPage.E(value)}\" autocomplete=\"{autocomplete}\" {extra} required>";

    private static string Submit(string label) => "<button type=\"submit\">" + HtmlPage.E(label) + "</button>";

    private static string Error(string? message) => message is null ? string.Empty : $"<p class=\"error\">{HtmlPage.E(message)}</p>";

    private string LanguageSwitch(string page)
    {
        var other = language == Locales.TraditionalChinese ? Locales.English : Locales.TraditionalChinese;
        return "<p><a href=\"" + HtmlPage.E(Link(page, other)) + "\" hreflang=\"" + other + "\">" + HtmlPage.E(Text.OtherLanguage) + "</a></p>";
    }
}

/// <summary>The sign-in pages' paths. All stay directly under /account/, where the antiforgery cookie lives, so relative form actions resolve alike from each.</summary>
public static class SignInPaths
{
    public const string SignInPage = "sign-in";
    public const string CodePage = "sign-in-code";
    public const string ChoosePage = "sign-in-member";
    public const string EmailPage = "sign-in-email";
    public const string SignedInPage = "signed-in";
    public const string SignOutPage = "sign-out";

    public const string SignIn = MemberCookie.SignInPath;
    public const string Code = "/account/" + CodePage;
    public const string Choose = "/account/" + ChoosePage;
    public const string Email = "/account/" + EmailPage;
    public const string SignedIn = "/account/" + SignedInPage;
    public const string SignOut = "/account/" + SignOutPage;
}
