using System.Net;
using System.Text.RegularExpressions;
using Pan.General.Member;
using Pan.Server.Pages.SignIn;
using Pan.Tests.Email;
using Pan.Tests.Pages;
using Pan.Tests.PhoneFlows;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.SignInPages;

/// <summary>Walks the hosted sign-in pages with a cookie-keeping HTTP client, reading SMS codes from the fixture's inbox.</summary>
public sealed partial class SignInFlow(SignInPagesFixture fixture)
{
    public MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    public PhoneFlow Phones => new(Client, fixture.Inbox);

    public static string SignInUrl(string returnUrl) => $"/account/sign-in?returnUrl={Uri.EscapeDataString(returnUrl)}";

    /// <summary>
    /// GET the sign-in page and POST the phone; returns the page answered (the code form when all went well).
    /// <paramref name="promptLogin"/> asks for the form as an app's prompt=login does, also in a signed-in browser.
    /// </summary>
    public static async Task<(HttpResponseMessage Response, string Html)> SendPhoneAsync(PageClient browser, string e164, string returnUrl = "/healthz", bool promptLogin = false)
    {
        var url = SignInUrl(returnUrl) + (promptLogin ? $"&{MemberCookie.PromptParameter}=login" : string.Empty);
        using var form = await browser.GetAsync(new Uri(url, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        return await PostAsync(browser, await form.Content.ReadAsStringAsync(), [new("country_code", "886"), new("phone", e164)]);
    }

    /// <summary>POSTs the first form of <paramref name="html"/> with its hidden fields plus <paramref name="fields"/>.</summary>
    public static async Task<(HttpResponseMessage Response, string Html)> PostAsync(PageClient browser, string html, IEnumerable<KeyValuePair<string, string>> fields)
    {
        var form = FirstForm().Match(html).Value;
        var all = HiddenField().Matches(form).Select(m => new KeyValuePair<string, string>(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value)))
            .Where(h => fields.All(f => f.Key != h.Key))
            .Concat(fields)
            .ToList();
        var response = await browser.PostFormAsync(new Uri("/account/" + PageClient.Action(form), UriKind.Relative), all);
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>POSTs the form of <paramref name="html"/> whose hidden <paramref name="name"/> is <paramref name="value"/> (e.g. one member of the chooser).</summary>
    public static async Task<(HttpResponseMessage Response, string Html)> PostFormWithAsync(PageClient browser, string html, string name, string value)
    {
        var form = Forms().Matches(html).Select(m => m.Value).Single(f => f.Contains($"name=\"{name}\" value=\"{value}\"", StringComparison.Ordinal));
        return await PostAsync(browser, form, []);
    }

    /// <summary>Signs a browser in by phone: phone, the SMS code, and (for a phone with several members) the chosen member.</summary>
    public async Task<HttpResponseMessage> SignInAsync(PageClient browser, string e164, string returnUrl = "/healthz", Guid? choose = null, bool promptLogin = false)
    {
        var before = fixture.Inbox.MessagesTo(e164).Count;
        var (sent, codeForm) = await SendPhoneAsync(browser, e164, returnUrl, promptLogin);
        sent.Dispose();
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, before + 1);
        var (done, html) = await PostAsync(browser, codeForm, [new("code", code)]);
        if (choose is { } objectId)
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            done.Dispose();
            (done, _) = await PostFormWithAsync(browser, html, "member", objectId.ToString("D"));
        }

        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        return done;
    }

    /// <summary>The display name the sign-in page says is signed in, or null when it shows the phone form.</summary>
    public static async Task<string?> SignedInAsAsync(PageClient browser)
    {
        using var page = await browser.GetAsync(new Uri("/account/sign-in?lang=en", UriKind.Relative));
        var html = await page.Content.ReadAsStringAsync();
        return SignedInAs().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : null;
    }

    public static string? MemberCookieOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies)
            ? cookies.FirstOrDefault(c => c.StartsWith(global::Pan.Server.Pages.SignIn.SignInPages.CookieName + "=", StringComparison.Ordinal))
            : null;

    internal static void AssertSafeHeaders(HttpResponseMessage page) => VerifyEmailPageBehaviour<SqliteEmailFixture>.AssertSafeHeaders(page);

    [GeneratedRegex("<form method=\"post\" action=\"[^\"]*\">.*?</form>", RegexOptions.Singleline)]
    private static partial Regex FirstForm();

    [GeneratedRegex("<form method=\"post\" action=\"[^\"]*\">.*?</form>", RegexOptions.Singleline)]
    private static partial Regex Forms();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenField();

    [GeneratedRegex("You are signed in as (.*?)\\.</p>")]
    private static partial Regex SignedInAs();
}
