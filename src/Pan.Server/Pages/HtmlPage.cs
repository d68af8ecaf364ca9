using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Pan.Server.Accounts;

namespace Pan.Server.Pages;

/// <summary>
/// The frame of every hosted page: a small HTML document (no script at all) with one inline style sheet allowed by its
/// hash, and the headers that keep it safe: a strict Content-Security-Policy, X-Frame-Options DENY, no caching, no
/// Referer (the URL carries a link token) and no MIME sniffing.
/// </summary>
public static class HtmlPage
{
    private const string Css =
        "body{margin:0;padding:24px;background:#f4f5f7;font-family:Arial,'Noto Sans TC',sans-serif;color:#1f2328}" +
        "main{max-width:440px;margin:40px auto;background:#fff;border-radius:8px;padding:32px}" +
        "h1{font-size:22px;margin:0 0 16px}label{display:block;margin:16px 0 4px;font-weight:bold}" +
        "input:not([type=checkbox]){width:100%;box-sizing:border-box;padding:10px;font-size:16px;border:1px solid #d0d7de;border-radius:6px}" +
        "input[type=checkbox]{margin:0 8px 0 0;vertical-align:middle}" +
        "button,a.button{display:inline-block;margin-top:20px;background:#0b6bcb;color:#fff;border:0;border-radius:6px;padding:12px 20px;font-size:16px;text-decoration:none}" +
        ".error{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:12px}.question{margin:4px 0}";

    /// <summary>The Content-Security-Policy of every page.</summary>
    public static readonly string ContentSecurityPolicy =
        $"default-src 'none'; style-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Css)))}'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    // Why all ranges: the default encoder turns every non-Latin character (all Chinese text) into numeric entities.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>HTML-encodes a value for text or a double-quoted attribute.</summary>
    public static string E(string? value) => Encoder.Encode(value ?? string.Empty);

    /// <summary>A hidden form field, name and value encoded.</summary>
    public static string Hidden(string name, string value) => "<input type=\"hidden\" name=\"" + E(name) + "\" value=\"" + E(value) + "\">";

    /// <summary>
    /// Writes the page; <paramref name="body"/> is already-encoded HTML. <paramref name="refresh"/> (absolute, or a local
    /// path) sends the browser on after <paramref name="refreshSeconds"/>.
    /// </summary>
    public static IResult Render(
        HttpContext context, string language, string title, string body, int status = StatusCodes.Status200OK, Uri? refresh = null, int refreshSeconds = 3)
    {
        ApplyHeaders(context);
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"").Append(language == Locales.TraditionalChinese ? "zh-Hant-TW" : "en").Append("\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">");
        if (refresh is not null)
        {
            html.Append("<meta http-equiv=\"refresh\" content=\"").Append(refreshSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(";url=")
                .Append(E(refresh.IsAbsoluteUri ? refresh.AbsoluteUri : refresh.OriginalString)).Append("\">");
        }

        html.Append("<title>").Append(E(title)).Append(" · Pan</title><style>").Append(Css).Append("</style></head><body><main>")
            .Append("<h1>").Append(E(title)).Append("</h1>").Append(body).Append("</main></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>The security headers of every page, also sent with the pages' redirects.</summary>
    public static void ApplyHeaders(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        headers.CacheControl = "no-store";
        headers.Pragma = "no-cache";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
    }
}
