using Pan.Server.Email;

namespace Pan.Server.Pages;

/// <summary>
/// GET /account/verify-email?token=…: confirms the email behind the mailed link and says so; when the verification was
/// asked with a redirect, the page links there and sends the browser on after a few seconds. Why confirm on GET: the
/// link only proves the mail reached the mailbox (a scanner fetching it proves the same) and grants nothing else.
/// </summary>
public static class VerifyEmailPage
{
    public static async Task<IResult> GetAsync(HttpContext context)
    {
        var language = PageLanguage.Of(context.Request);
        var text = PageText.For(language);
        var verification = context.RequestServices.GetRequiredService<EmailVerification>();
        var result = await verification.ConfirmLinkAsync(context.Request.Query["token"].ToString(), context.RequestAborted);
        if (result.Taken)
        {
            return HtmlPage.Render(context, language, text.VerifyTitle, $"<p class=\"error\">{HtmlPage.E(text.VerifyTaken)}</p>", StatusCodes.Status409Conflict);
        }

        if (!result.Confirmed)
        {
            return HtmlPage.Render(context, language, text.VerifyTitle, $"<p class=\"error\">{HtmlPage.E(text.VerifyFailed)}</p>", StatusCodes.Status400BadRequest);
        }

        var body = $"<p>{HtmlPage.E(text.Verified)}</p>";
        if (result.Redirect is { } next)
        {
            body += $"<p><a class=\"button\" href=\"{HtmlPage.E(next.AbsoluteUri)}\">{HtmlPage.E(text.Continue)}</a></p>";
        }

        return HtmlPage.Render(context, language, text.VerifyTitle, body, refresh: result.Redirect);
    }
}
