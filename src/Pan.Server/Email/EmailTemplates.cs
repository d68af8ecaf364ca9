using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Pan.Server.Accounts;

namespace Pan.Server.Email;

/// <summary>The mails Pan sends.</summary>
public enum EmailKind
{
    /// <summary>Code + link that confirm the member's email address.</summary>
    VerifyEmail,

    /// <summary>Code + link that start a password reset.</summary>
    ResetPassword,

    /// <summary>A one-time sign-in code.</summary>
    LoginCode,

    /// <summary>Notice: the password was changed by the member.</summary>
    PasswordChanged,

    /// <summary>Notice: the password was reset through account recovery.</summary>
    PasswordReset,

    /// <summary>Notice to the previous address: the account's email address was changed.</summary>
    EmailChanged,

    /// <summary>A link that activates an account converted through the apinode endpoints (Guests/).</summary>
    ActivateAccount,
}

/// <summary>What a mail says: the member's name, and (by kind) a code, a link and the client's own page for the code.</summary>
public sealed record EmailModel(string? DisplayName, string? Code = null, Uri? Link = null, Uri? InputLink = null, int Minutes = 10);

/// <summary>A rendered mail: subject, HTML body and plain-text body.</summary>
public sealed record RenderedEmail(string Subject, string Html, string Text);

/// <summary>
/// HTML and plain-text mails in English and Traditional Chinese (by <c>Member.Locale</c>). Every value is HTML-encoded;
/// styles are inline because mail clients drop style sheets.
/// </summary>
public static partial class EmailTemplates
{
    // Why all ranges: the default encoder turns every non-Latin character (all Chinese text) into numeric entities.
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    public static RenderedEmail Render(EmailKind kind, string? locale, EmailModel model)
    {
        var zh = locale == Locales.TraditionalChinese;
        var w = zh ? Chinese(kind) : English(kind);
        var common = zh ? ChineseCommon : EnglishCommon;
        var name = string.IsNullOrWhiteSpace(model.DisplayName) ? common.Member : model.DisplayName;
        var minutes = model.Minutes.ToString(CultureInfo.InvariantCulture);
        var body = w.Body.Replace("{minutes}", minutes, StringComparison.Ordinal);

        var text = new StringBuilder();
        text.Append(string.Format(CultureInfo.InvariantCulture, common.Greeting, name)).Append("\n\n").Append(body).Append("\n\n");
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"").Append(zh ? "zh-Hant-TW" : "en").Append("\"><head><meta charset=\"utf-8\"><title>")
            .Append(Html.Encode(w.Subject)).Append("</title></head><body style=\"margin:0;padding:24px;background:#f4f5f7;font-family:Arial,'Noto Sans TC',sans-serif;color:#1f2328\">")
            .Append("<div style=\"max-width:520px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px\">")
            .Append("<h1 style=\"font-size:20px;margin:0 0 16px\">").Append(Html.Encode(w.Subject)).Append("</h1>")
            .Append("<p>").Append(Html.Encode(string.Format(CultureInfo.InvariantCulture, common.Greeting, name))).Append("</p>")
            .Append("<p>").Append(Html.Encode(body)).Append("</p>");

        if (model.Code is { } code)
        {
            text.Append(common.CodeLabel).Append(' ').Append(code).Append("\n\n");
            html.Append("<p>").Append(Html.Encode(common.CodeLabel)).Append("</p><p style=\"font-size:28px;font-weight:bold;letter-spacing:4px;font-family:Consolas,monospace\">")
                .Append(Html.Encode(code)).Append("</p>");
        }

        if (model.Link is { } link && w.Button is { } button)
        {
            text.Append(button).Append(":\n").Append(link.AbsoluteUri).Append("\n\n");
            html.Append("<p><a href=\"").Append(Html.Encode(link.AbsoluteUri))
                .Append("\" style=\"display:inline-block;background:#0b6bcb;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px\">")
                .Append(Html.Encode(button)).Append("</a></p><p style=\"font-size:12px;color:#57606a;word-break:break-all\">")
                .Append(Html.Encode(link.AbsoluteUri)).Append("</p>");
        }

        if (model.InputLink is { } input && model.Code is not null)
        {
            text.Append(common.EnterCodeAt).Append(' ').Append(input.AbsoluteUri).Append("\n\n");
            html.Append("<p>").Append(Html.Encode(common.EnterCodeAt)).Append(" <a href=\"").Append(Html.Encode(input.AbsoluteUri)).Append("\">")
                .Append(Html.Encode(input.AbsoluteUri)).Append("</a></p>");
        }

        if (model.Code is not null || model.Link is not null)
        {
            var expiry = string.Format(CultureInfo.InvariantCulture, common.Expiry, minutes);
            text.Append(expiry).Append('\n');
            html.Append("<p style=\"color:#57606a\">").Append(Html.Encode(expiry)).Append("</p>");
        }

        text.Append(w.Footer).Append("\n\n— Pan\n");
        html.Append("<p style=\"color:#57606a;font-size:13px\">").Append(Html.Encode(w.Footer)).Append("</p>")
            .Append("<p style=\"color:#8c959f;font-size:12px\">Pan</p></div></body></html>");
        return new RenderedEmail(w.Subject, html.ToString(), text.ToString());
    }

    /// <summary>The words of one mail: subject (also the heading), body, button label (for links) and footer.</summary>
    private sealed record Wording(string Subject, string Body, string? Button, string Footer);

    /// <summary>Words every mail of a language shares. Greeting and Expiry are composite formats ({0}).</summary>
    private sealed record Common(string Greeting, string Member, string CodeLabel, string EnterCodeAt, string Expiry);
}
