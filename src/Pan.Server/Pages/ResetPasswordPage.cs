using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Pan.Server.Recovery;

namespace Pan.Server.Pages;

/// <summary>
/// /account/reset-password?token=…: GET shows the form (new password twice, and the security question when the member
/// has one) with an antiforgery token; POST checks the antiforgery token and resets the password like AuthResetUpdate.
/// States: link expired or used, form expired, password refused (with the rules' reason), passwords differ, answer
/// missing or wrong, done (then a link to the redirect_success given with the reset request).
/// </summary>
public static class ResetPasswordPage
{
    /// <summary>The form is a few fields; anything bigger is refused before it is read.</summary>
    public const long MaxFormBytes = 32 * 1024;

    public static async Task<IResult> GetAsync(HttpContext context)
    {
        var language = PageLanguage.Of(context.Request);
        var token = context.Request.Query["token"].ToString();
        var form = await context.RequestServices.GetRequiredService<LinkReset>().OpenAsync(token, context.RequestAborted);
        return form is null ? LinkDead(context, language) : Form(context, language, token, form.Question, null, StatusCodes.Status200OK);
    }

    public static async Task<IResult> PostAsync(HttpContext context)
    {
        var language = PageLanguage.Of(context.Request);
        var text = PageText.For(language);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxFormBytes;
        }

        if (!context.Request.HasFormContentType)
        {
            return HtmlPage.Render(context, language, text.ResetTitle, Error(text.FormExpired), StatusCodes.Status400BadRequest);
        }

        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return HtmlPage.Render(context, language, text.ResetTitle, Error(text.FormExpired), StatusCodes.Status400BadRequest);
        }

        var fields = await context.Request.ReadFormAsync(context.RequestAborted);
        var token = fields["token"].ToString();
        var reset = context.RequestServices.GetRequiredService<LinkReset>();
        var result = await reset.SubmitAsync(token, fields["password"].ToString(), fields["confirm_password"].ToString(), fields["answer"].ToString(), context.RequestAborted);
        if (result.LinkDead)
        {
            return LinkDead(context, language);
        }

        if (!result.Done)
        {
            var message = result.Check.Refusal switch
            {
                ResetRefusal.PasswordRequired => text.PasswordRequired,
                ResetRefusal.Mismatch => text.Mismatch,
                ResetRefusal.PasswordRule => string.Format(CultureInfo.CurrentCulture, text.PasswordRule, result.Check.Reason),
                _ => text.AnswerWrong,
            };
            var form = await reset.OpenAsync(token, context.RequestAborted);
            return form is null ? LinkDead(context, language) : Form(context, language, token, form.Question, message, StatusCodes.Status400BadRequest);
        }

        var body = $"<p>{HtmlPage.E(text.ResetDone)}</p>";
        if (result.Redirect is { } next)
        {
            body += $"<p><a class=\"button\" href=\"{HtmlPage.E(next.AbsoluteUri)}\">{HtmlPage.E(text.Continue)}</a></p>";
        }

        return HtmlPage.Render(context, language, text.ResetDoneTitle, body, refresh: result.Redirect);
    }

    private static IResult Form(HttpContext context, string language, string token, string? question, string? error, int status)
    {
        var text = PageText.For(language);
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        // Why relative: behind a proxy that adds a path prefix, the browser must post back to the URL it is on.
        var action = $"reset-password?lang={Uri.EscapeDataString(language)}";
        var html = new StringBuilder();
        if (error is not null)
        {
            html.Append(Error(error));
        }

        html.Append("<form method=\"post\" action=\"").Append(HtmlPage.E(action)).Append("\">")
            .Append("<input type=\"hidden\" name=\"").Append(HtmlPage.E(tokens.FormFieldName)).Append("\" value=\"").Append(HtmlPage.E(tokens.RequestToken)).Append("\">")
            .Append("<input type=\"hidden\" name=\"token\" value=\"").Append(HtmlPage.E(token)).Append("\">")
            .Append("<label for=\"password\">").Append(HtmlPage.E(text.NewPassword)).Append("</label>")
            .Append("<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>")
            .Append("<label for=\"confirm_password\">").Append(HtmlPage.E(text.ConfirmPassword)).Append("</label>")
            .Append("<input id=\"confirm_password\" name=\"confirm_password\" type=\"password\" autocomplete=\"new-password\" required>");
        if (question is not null)
        {
            html.Append("<label for=\"answer\">").Append(HtmlPage.E(text.SecurityQuestion)).Append("</label>")
                .Append("<p class=\"question\">").Append(HtmlPage.E(question)).Append("</p>")
                .Append("<input id=\"answer\" name=\"answer\" type=\"text\" autocomplete=\"off\" placeholder=\"").Append(HtmlPage.E(text.Answer)).Append("\" required>");
        }

        html.Append("<button type=\"submit\">").Append(HtmlPage.E(text.Submit)).Append("</button></form>");
        return HtmlPage.Render(context, language, text.ResetTitle, html.ToString(), status);
    }

    private static IResult LinkDead(HttpContext context, string language)
    {
        var text = PageText.For(language);
        return HtmlPage.Render(context, language, text.LinkDeadTitle, Error(text.LinkDead), StatusCodes.Status400BadRequest);
    }

    private static string Error(string message) => $"<p class=\"error\">{HtmlPage.E(message)}</p>";
}
