using System.Net;
using System.Text.RegularExpressions;

namespace Pan.Tests.Pages;

/// <summary>A browser stand-in for the hosted pages: keeps cookies, does not follow redirects, reads hidden form fields.</summary>
public sealed partial class PageClient : IDisposable
{
    private readonly HttpClient http;
    private readonly CookieContainer cookies = new();
    private readonly Uri baseAddress;

    public PageClient(Uri baseAddress, string? acceptLanguage = null)
    {
        this.baseAddress = baseAddress;
        http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = baseAddress };
        if (acceptLanguage is not null)
        {
            http.DefaultRequestHeaders.AcceptLanguage.ParseAdd(acceptLanguage);
        }
    }

    public Task<HttpResponseMessage> GetAsync(Uri url) => http.GetAsync(url);

    public Task<HttpResponseMessage> PostFormAsync(Uri url, IEnumerable<KeyValuePair<string, string>> fields) =>
        http.PostAsync(url, new FormUrlEncodedContent(fields));

    /// <summary>The browser's cookies for the site, as a Cookie header (to replay them from another client).</summary>
    public string CookieHeader() => cookies.GetCookieHeader(baseAddress);

    /// <summary>Gives this client the cookies of <see cref="CookieHeader"/>, as copying them from another browser would.</summary>
    public void SetCookieHeader(string header) => cookies.SetCookies(baseAddress, header.Replace("; ", ",", StringComparison.Ordinal));

    /// <summary>
    /// Replaces this client's cookies with every cookie of <paramref name="other"/> (all paths): one browser whose
    /// requests reach another node of the same site.
    /// </summary>
    public void TakeCookiesOf(PageClient other)
    {
        foreach (Cookie cookie in cookies.GetAllCookies())
        {
            cookie.Expired = true;
        }

        foreach (Cookie cookie in other.cookies.GetAllCookies())
        {
            cookies.Add(new Cookie(cookie.Name, cookie.Value, cookie.Path, cookie.Domain));
        }
    }

    /// <summary>The value of the hidden input named <paramref name="name"/> in <paramref name="html"/>.</summary>
    public static string Hidden(string html, string name)
    {
        var match = Regex.Match(html, $"<input type=\"hidden\" name=\"{Regex.Escape(name)}\" value=\"([^\"]*)\">", RegexOptions.CultureInvariant);
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new Xunit.Sdk.XunitException($"No hidden field {name} in: {html}");
    }

    /// <summary>The form's action URL.</summary>
    public static string Action(string html) =>
        WebUtility.HtmlDecode(FormAction().Match(html).Groups[1].Value);

    public void Dispose() => http.Dispose();

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]*)\">", RegexOptions.CultureInvariant)]
    private static partial Regex FormAction();
}
