using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Pan.Tests.Pages;
using Pan.Tests.PhoneFlows;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.SignInPages;

/// <summary>The hosted phone sign-in pages over plain HTTP: forms, CSRF, codes, the member chooser, the cookie and its session.</summary>
public abstract class SignInPageBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : SignInPagesFixture
{
    private readonly SignInFlow flow = new(fixture);

    private Uri Base => fixture.Server.HttpUri;

    [Fact]
    public async Task SignInPage_IsAPhoneForm_WithStrictHeaders_InEitherLanguage()
    {
        using var browser = new PageClient(Base, "en");
        using var english = await browser.GetAsync(new Uri(SignInFlow.SignInUrl("/connect/authorize?client_id=x"), UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, english.StatusCode);
        SignInFlow.AssertSafeHeaders(english);
        var html = await english.Content.ReadAsStringAsync();
        Assert.Contains("name=\"phone\"", html, StringComparison.Ordinal);
        Assert.Contains("<input type=\"hidden\" name=\"af\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"/connect/authorize?client_id=x\"", html, StringComparison.Ordinal);
        Assert.Contains("lang=zh-TW&amp;returnUrl=%2Fconnect%2Fauthorize%3Fclient_id%3Dx", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);

        using var chineseBrowser = new PageClient(Base, "zh-TW,zh;q=0.9");
        using var chinese = await chineseBrowser.GetAsync(new Uri("/account/sign-in", UriKind.Relative));
        var zh = await chinese.Content.ReadAsStringAsync();
        Assert.Contains("lang=\"zh-Hant-TW\"", zh, StringComparison.Ordinal);
        Assert.Contains("手機號碼", zh, StringComparison.Ordinal);
        Assert.Contains(">English</a>", zh, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostWithoutTheAntiforgeryToken_IsRefused_AndSendsNoSms()
    {
        var (_, e164) = await flow.Phones.RegisterAsync();
        using var browser = new PageClient(Base, "en");
        using var form = await browser.GetAsync(new Uri("/account/sign-in", UriKind.Relative));
        using var post = await browser.PostFormAsync(new Uri("/account/sign-in", UriKind.Relative),
            [new("country_code", "886"), new("phone", e164), new("returnUrl", "/healthz")]);
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        SignInFlow.AssertSafeHeaders(post);
        Assert.Contains("The form has expired.", await post.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A token from another browser (its cookie missing) is refused too.
        using var other = new PageClient(Base, "en");
        var otherForm = await (await other.GetAsync(new Uri("/account/sign-in", UriKind.Relative))).Content.ReadAsStringAsync();
        using var forged = await browser.PostFormAsync(new Uri("/account/sign-in", UriKind.Relative),
            [new("af", PageClient.Hidden(otherForm, "af")), new("country_code", "886"), new("phone", e164), new("returnUrl", "/healthz")]);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Single(fixture.Inbox.MessagesTo(e164)); // only the registration code
    }

    [Fact]
    public async Task UnknownOrInvalidPhone_IsSaidOnThePhoneForm()
    {
        using var browser = new PageClient(Base, "en");
        var (_, unknown) = PhoneFlow.NewNumber();
        var (notFound, html) = await SignInFlow.SendPhoneAsync(browser, unknown);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Contains("No account uses this number.", html, StringComparison.Ordinal);
        Assert.Contains("name=\"phone\"", html, StringComparison.Ordinal);
        Assert.Empty(fixture.Inbox.MessagesTo(unknown));

        var (invalid, invalidHtml) = await SignInFlow.SendPhoneAsync(browser, "12<b>");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("Enter a valid mobile number.", invalidHtml, StringComparison.Ordinal);
        Assert.Contains("value=\"12&lt;b&gt;\"", invalidHtml, StringComparison.Ordinal);
    }

    /// <summary>A number an operator blocked: the phone form says it cannot be used (403), and no code is sent.</summary>
    [Fact]
    public async Task ABlockedNumber_IsSaidOnThePhoneForm_AndGetsNoCode()
    {
        var (_, e164) = await flow.Phones.RegisterAsync();
        await Pan.Tests.Admin.TestPhoneBlocks.BlockAsync(fixture.Server, e164);
        using var browser = new PageClient(Base, "en");

        var (response, html) = await SignInFlow.SendPhoneAsync(browser, e164);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("This number cannot be used.", html, StringComparison.Ordinal);
        Assert.Contains("name=\"phone\"", html, StringComparison.Ordinal);
        Assert.Single(fixture.Inbox.MessagesTo(e164)); // only the registration code
    }

    [Fact]
    public async Task LandlineOrPremiumRateNumber_IsAskedForAMobile_AndGetsNoCode()
    {
        using var browser = new PageClient(Base, "en");
        foreach (var number in new[] { "+886223456784", "+886204123459" })
        {
            var before = fixture.Inbox.Requests;
            var (response, html) = await SignInFlow.SendPhoneAsync(browser, number);

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("Enter a valid mobile number.", html, StringComparison.Ordinal);
            Assert.Equal(before, fixture.Inbox.Requests);
        }
    }

    [Fact]
    public async Task WrongCode_IsRefused_ThenTheRightCodeSignsIn_WithASafeCookie()
    {
        var (_, e164) = await flow.Phones.RegisterAsync();
        using var browser = new PageClient(Base, "en");
        var (sent, codeForm) = await SignInFlow.SendPhoneAsync(browser, e164, "/healthz?after=sign-in");
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        SignInFlow.AssertSafeHeaders(sent);
        Assert.Contains("name=\"code\"", codeForm, StringComparison.Ordinal);
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2);

        var (wrong, wrongHtml) = await SignInFlow.PostAsync(browser, codeForm, [new("code", code == "000000" ? "111111" : "000000")]);
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("The code is wrong or has expired.", wrongHtml, StringComparison.Ordinal);
        Assert.Null(SignInFlow.MemberCookieOf(wrong));
        Assert.Null(await SignInFlow.SignedInAsAsync(browser));

        var (done, _) = await SignInFlow.PostAsync(browser, wrongHtml, [new("code", code)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal("signed-in?lang=en&returnUrl=%2Fhealthz%3Fafter%3Dsign-in", done.Headers.Location!.OriginalString);
        var cookie = SignInFlow.MemberCookieOf(done)!.ToLowerInvariant();
        Assert.Contains("httponly", cookie, StringComparison.Ordinal);
        Assert.Contains("samesite=lax", cookie, StringComparison.Ordinal);
        Assert.Contains("path=/;", cookie + ";", StringComparison.Ordinal);
        Assert.DoesNotContain("secure", cookie, StringComparison.Ordinal); // plain HTTP with CookieSecure=SameAsRequest

        using var forward = await browser.GetAsync(new Uri(new Uri(Base, "/account/"), done.Headers.Location.OriginalString));
        Assert.Equal(HttpStatusCode.OK, forward.StatusCode);
        SignInFlow.AssertSafeHeaders(forward);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"0;url=/healthz?after=sign-in\">", await forward.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotNull(await SignInFlow.SignedInAsAsync(browser));
    }

    [Fact]
    public async Task TheForwardingPage_WithoutTheCookie_SendsToSignIn_AndAForgedCookieIsIgnored()
    {
        using var browser = new PageClient(Base, "en");
        using var page = await browser.GetAsync(new Uri("/account/signed-in?returnUrl=%2Fhealthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.SeeOther, page.StatusCode);
        Assert.Equal("sign-in?lang=en&returnUrl=%2Fhealthz", page.Headers.Location!.OriginalString);
        Assert.Equal(Pan.Server.Pages.HtmlPage.ContentSecurityPolicy, Assert.Single(page.Headers.GetValues("Content-Security-Policy")));
        Assert.Contains("no-store", page.Headers.CacheControl!.ToString(), StringComparison.Ordinal);

        using var forged = new HttpRequestMessage(HttpMethod.Get, new Uri(Base, "/account/sign-in?lang=en"));
        forged.Headers.Add("Cookie", "pan_member=CfDJ8forged");
        using var answer = await fixture.Server.Http.SendAsync(forged);
        Assert.Contains("name=\"phone\"", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCookieIsSecure_WhenConfiguredSo()
    {
        var (_, e164) = await flow.Phones.RegisterAsync();
        await using var node = await fixture.StartNodeWithAsync(("Pan:SignIn:CookieSecure", "Always"));
        using var browser = new PageClient(node.HttpUri, "en");
        var before = fixture.Inbox.MessagesTo(e164).Count;
        var (_, codeForm) = await SignInFlow.SendPhoneAsync(browser, e164);
        var (done, _) = await SignInFlow.PostAsync(browser, codeForm, [new("code", await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, before + 1))]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Contains("secure", SignInFlow.MemberCookieOf(done)!.ToLowerInvariant(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/path")]
    [InlineData("/\\evil.example")]
    [InlineData("javascript:alert(1)")]
    [InlineData("/\t/evil.example")]
    [InlineData("\\\\evil.example")]
    [InlineData("https:evil.example")]
    [InlineData(" //evil.example")]
    [InlineData("/\r\n/evil.example")]
    public async Task AReturnUrlOffTheSite_IsRefused(string returnUrl)
    {
        using var browser = new PageClient(Base, "en");
        using var get = await browser.GetAsync(new Uri(SignInFlow.SignInUrl(returnUrl), UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
        Assert.Contains("This sign-in link is not valid.", await get.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Posted with a valid form (antiforgery token and all), the foreign returnUrl is refused before any code is sent.
        var (_, e164) = await flow.Phones.RegisterAsync();
        using var form = await browser.GetAsync(new Uri("/account/sign-in", UriKind.Relative));
        var (post, _) = await SignInFlow.PostAsync(browser, await form.Content.ReadAsStringAsync(),
            [new("country_code", "886"), new("phone", e164), new("returnUrl", returnUrl)]);
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Single(fixture.Inbox.MessagesTo(e164));

        using var forward = await browser.GetAsync(new Uri($"/account/signed-in?returnUrl={Uri.EscapeDataString(returnUrl)}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, forward.StatusCode);
    }

    [Fact]
    public async Task APhoneWithSeveralMembers_ChoosesOne_AndTheSessionIsThatMembers()
    {
        var owner = await TestMembers.CreateAsync(fixture.Server);
        var second = await TestMembers.AddToPhoneAsync(fixture.Server, owner);
        var e164 = await TestMembers.WithDbAsync(fixture.Server, db => db.Accounts.Where(a => a.Id == owner.AccountId).Select(a => a.PhoneE164!).SingleAsync());
        using var browser = new PageClient(Base, "en");
        var (_, codeForm) = await SignInFlow.SendPhoneAsync(browser, e164);
        var (chooser, html) = await SignInFlow.PostAsync(browser, codeForm, [new("code", await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 1))]);
        Assert.Equal(HttpStatusCode.OK, chooser.StatusCode);
        Assert.Null(SignInFlow.MemberCookieOf(chooser));
        Assert.Contains("Continue as " + owner.DisplayName, html, StringComparison.Ordinal);
        Assert.Contains("Continue as " + second.DisplayName, html, StringComparison.Ordinal);

        var (chosen, _) = await SignInFlow.PostFormWithAsync(browser, html, "member", second.ObjectId.ToString("D"));
        Assert.Equal(HttpStatusCode.SeeOther, chosen.StatusCode);
        Assert.Equal(second.DisplayName, await SignInFlow.SignedInAsAsync(browser));
        var sessions = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<AuthSession>().Where(s => s.AccountId == owner.AccountId).ToListAsync());
        Assert.Equal(second.Uid, Assert.Single(sessions, s => s.Revoked == null).Uid);

        // The chooser's ticket is spent: its session (the code's) has ended.
        await ExpectChooserSpentAsync(Base, html, owner.ObjectId);
    }

    /// <summary>A new browser at <paramref name="site"/> posting the chooser page <paramref name="html"/> again (with its own antiforgery token) is told the sign-in expired.</summary>
    private static async Task ExpectChooserSpentAsync(Uri site, string html, Guid member)
    {
        using var replayBrowser = new PageClient(site, "en");
        using var replayForm = await replayBrowser.GetAsync(new Uri("/account/sign-in", UriKind.Relative));
        var replayHtml = await replayForm.Content.ReadAsStringAsync();
        var (replay, replayPage) = await SignInFlow.PostFormWithAsync(replayBrowser,
            html.Replace(PageClient.Hidden(html, "af"), PageClient.Hidden(replayHtml, "af"), StringComparison.Ordinal), "member", member.ToString("D"));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("This sign-in has expired.", replayPage, StringComparison.Ordinal);
        Assert.Null(await SignInFlow.SignedInAsAsync(replayBrowser));
    }

    /// <summary>
    /// Two nodes on one database behind one site (the browser's cookies go to whichever node answers): the phone is
    /// posted to one node, the code to the other, the member chosen on the first; the session is the chosen member's on
    /// both, and the spent chooser ticket is refused on the other node.
    /// </summary>
    [Fact]
    public async Task TwoNodes_APhoneWithSeveralMembers_StartedOnOne_ChoosesOnTheOther_AndTheTicketIsSpentOnBoth()
    {
        await using var other = await fixture.StartNodeAsync();
        var owner = await TestMembers.CreateAsync(fixture.Server);
        var second = await TestMembers.AddToPhoneAsync(fixture.Server, owner);
        var e164 = await TestMembers.WithDbAsync(fixture.Server, db => db.Accounts.Where(a => a.Id == owner.AccountId).Select(a => a.PhoneE164!).SingleAsync());
        using var onFirst = new PageClient(Base, "en");
        using var onOther = new PageClient(other.HttpUri, "en");

        var (_, codeForm) = await SignInFlow.SendPhoneAsync(onFirst, e164);
        onOther.TakeCookiesOf(onFirst);
        var (chooser, html) = await SignInFlow.PostAsync(onOther, codeForm, [new("code", await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 1))]);
        Assert.Equal(HttpStatusCode.OK, chooser.StatusCode);
        Assert.Contains("Continue as " + second.DisplayName, html, StringComparison.Ordinal);
        onFirst.TakeCookiesOf(onOther);
        var (chosen, _) = await SignInFlow.PostFormWithAsync(onFirst, html, "member", second.ObjectId.ToString("D"));
        Assert.Equal(HttpStatusCode.SeeOther, chosen.StatusCode);

        Assert.Equal(second.DisplayName, await SignInFlow.SignedInAsAsync(onFirst));
        onOther.TakeCookiesOf(onFirst);
        Assert.Equal(second.DisplayName, await SignInFlow.SignedInAsAsync(onOther));
        var sessions = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<AuthSession>().Where(s => s.AccountId == owner.AccountId).ToListAsync());
        Assert.Equal(second.Uid, Assert.Single(sessions, s => s.Revoked == null).Uid);

        await ExpectChooserSpentAsync(other.HttpUri, html, owner.ObjectId);
    }

    [Fact]
    public async Task ARevokedSession_OrADeletedMember_IsNoLongerSignedIn()
    {
        var (_, e164) = await flow.Phones.RegisterAsync();
        using var browser = new PageClient(Base, "en");
        (await flow.SignInAsync(browser, e164)).Dispose();
        Assert.NotNull(await SignInFlow.SignedInAsAsync(browser));

        var session = await NewestSessionAsync(e164);
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<TokenService>().RevokeMemberAsync(session.Uid, CancellationToken.None);
        }

        using var page = await browser.GetAsync(new Uri("/account/sign-in?lang=en", UriKind.Relative));
        Assert.Contains("name=\"phone\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.StartsWith("pan_member=;", SignInFlow.MemberCookieOf(page), StringComparison.Ordinal);

        (await flow.SignInAsync(browser, e164)).Dispose();
        Assert.NotNull(await SignInFlow.SignedInAsAsync(browser));
        await TestMembers.UpdateAsync(fixture.Server, session.Uid, m => m.Deleted = fixture.Server.Clock.GetUtcNow());
        Assert.Null(await SignInFlow.SignedInAsAsync(browser));
    }

    [Fact]
    public async Task SigningInAgain_EndsTheSessionTheBrowserHeld_AsTheSameMemberOrAnother()
    {
        // A browser holds one session: the one its new cookie replaces must not stay usable by whoever copied the old cookie.
        var (_, e164) = await flow.Phones.RegisterAsync();
        var (_, otherE164) = await flow.Phones.RegisterAsync();
        using var browser = new PageClient(Base, "en");
        (await flow.SignInAsync(browser, e164)).Dispose();
        var first = await NewestSessionAsync(e164);
        var firstCookie = browser.CookieHeader();

        (await flow.SignInAsync(browser, e164, promptLogin: true)).Dispose();
        var second = await NewestSessionAsync(e164);
        Assert.NotEqual(first.Id, second.Id);
        Assert.NotNull((await SessionAsync(first.Id)).Revoked);
        Assert.Null((await SessionAsync(second.Id)).Revoked);

        (await flow.SignInAsync(browser, otherE164, promptLogin: true)).Dispose();
        var third = await NewestSessionAsync(otherE164);
        Assert.NotNull((await SessionAsync(second.Id)).Revoked);
        Assert.Null((await SessionAsync(third.Id)).Revoked);
        Assert.Equal(await DisplayNameAsync(third.Uid), await SignInFlow.SignedInAsAsync(browser));

        // The first cookie, replayed from elsewhere, signs nobody in.
        using var copied = new PageClient(Base, "en");
        copied.SetCookieHeader(firstCookie);
        Assert.Null(await SignInFlow.SignedInAsAsync(copied));
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        var (_, e164) = await flow.Phones.RegisterAsync();
        using var browser = new PageClient(Base, "en");
        (await flow.SignInAsync(browser, e164)).Dispose();
        using var signedIn = await browser.GetAsync(new Uri("/account/sign-in?lang=en", UriKind.Relative));
        var html = await signedIn.Content.ReadAsStringAsync();
        Assert.Contains("action=\"sign-out?lang=en\"", html, StringComparison.Ordinal);

        var session = await NewestSessionAsync(e164);
        Assert.Null(session.Revoked);
        var (signOut, _) = await SignInFlow.PostAsync(browser, html, []);
        Assert.Equal(HttpStatusCode.SeeOther, signOut.StatusCode);
        Assert.Null(await SignInFlow.SignedInAsAsync(browser));
        Assert.NotNull((await NewestSessionAsync(e164)).Revoked);
    }

    [Fact]
    public async Task SignOut_WhileTheDatabaseStaysLockedPastTheTimeout_IsAServiceUnavailablePage_AndSignsOutOnceItIsFree()
    {
        // Why a node of its own: its connection gives up waiting for a lock after about a second (SQLite's Default
        // Timeout, Npgsql's Command Timeout), where the fixture's waits 30.
        var timeout = fixture.Database.Provider == "postgres" ? ";Command Timeout=1" : ";Default Timeout=1";
        await using var node = await fixture.StartNodeWithAsync(("ConnectionStrings:Pan", fixture.Database.ConnectionString + timeout));
        var (_, e164) = await flow.Phones.RegisterAsync();
        using var browser = new PageClient(node.HttpUri, "en");
        (await flow.SignInAsync(browser, e164)).Dispose();
        using var signedIn = await browser.GetAsync(new Uri("/account/sign-in?lang=en", UriKind.Relative));
        var html = await signedIn.Content.ReadAsStringAsync();

        await using (await DatabaseLock.HoldAsync(fixture.Database, "auth_sessions"))
        {
            var (refused, refusedHtml) = await SignInFlow.PostAsync(browser, html, []);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            SignInFlow.AssertSafeHeaders(refused);
            Assert.Contains("The service is unavailable. Try again in a moment.", refusedHtml, StringComparison.Ordinal);
        }

        Assert.Null((await NewestSessionAsync(e164)).Revoked);
        var (signOut, _) = await SignInFlow.PostAsync(browser, html, []);
        Assert.Equal(HttpStatusCode.SeeOther, signOut.StatusCode);
        Assert.NotNull((await NewestSessionAsync(e164)).Revoked);
    }

    [Fact]
    public async Task Resend_WaitsForTheCooldown_ThenANewCodeSignsIn()
    {
        var (_, e164) = await flow.Phones.RegisterAsync();
        using var browser = new PageClient(Base, "en");
        var (_, codeForm) = await SignInFlow.SendPhoneAsync(browser, e164);
        var (early, earlyHtml) = await SignInFlow.PostAsync(browser, FormAround(codeForm, "name=\"resend\""), []);
        Assert.Equal(HttpStatusCode.TooManyRequests, early.StatusCode);
        Assert.Contains("A code was sent moments ago.", earlyHtml, StringComparison.Ordinal);

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        var (resent, resentHtml) = await SignInFlow.PostAsync(browser, FormAround(earlyHtml, "name=\"resend\""), []);
        Assert.Equal(HttpStatusCode.OK, resent.StatusCode);
        Assert.Contains("A new code was sent.", resentHtml, StringComparison.Ordinal);

        var (done, _) = await SignInFlow.PostAsync(browser, resentHtml, [new("code", await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 3))]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
    }

    [Fact]
    public async Task WhenTheLoginFlowNeedsACaptcha_ThePageSaysSo()
    {
        var (_, e164) = await flow.Phones.RegisterAsync();
        await using var node = await fixture.StartNodeWithAsync(
            ("Pan:Captcha:Mode", "always"), ("Pan:Captcha:Platforms:Web:Secret", "test-secret"), ("Pan:Captcha:SiteVerifyUrl", "http://127.0.0.1:9/"));
        using var browser = new PageClient(node.HttpUri, "en");
        var (refused, html) = await SignInFlow.SendPhoneAsync(browser, e164);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("needs a captcha check, which these pages cannot show", html, StringComparison.Ordinal);
        Assert.Single(fixture.Inbox.MessagesTo(e164));
    }

    /// <summary>The newest auth session of the phone's account (the one the browser's sign-in opened).</summary>
    private Task<AuthSession> SessionAsync(long id) =>
        TestMembers.WithDbAsync(fixture.Server, db => db.Set<AuthSession>().AsNoTracking().SingleAsync(s => s.Id == id));

    private Task<string?> DisplayNameAsync(long uid) =>
        TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == uid).Select(m => m.DisplayName).SingleAsync());

    private Task<AuthSession> NewestSessionAsync(string e164) =>
        TestMembers.WithDbAsync(fixture.Server, db => db.Accounts.Where(a => a.PhoneE164 == e164)
            .Join(db.Set<AuthSession>(), a => a.Id, s => s.AccountId, (a, s) => s)
            .OrderByDescending(s => s.Id).FirstAsync());

    /// <summary>The whole form of <paramref name="html"/> that contains <paramref name="marker"/>.</summary>
    private static string FormAround(string html, string marker)
    {
        var at = html.IndexOf(marker, StringComparison.Ordinal);
        var start = html.LastIndexOf("<form", at, StringComparison.Ordinal);
        var end = html.IndexOf("</form>", at, StringComparison.Ordinal) + "</form>".Length;
        return html[start..end];
    }
}

public sealed class SignInPageBehaviour_Sqlite(SqliteSignInPagesFixture f) : SignInPageBehaviour<SqliteSignInPagesFixture>(f);

public sealed class SignInPageBehaviour_Postgres(PostgresSignInPagesFixture f) : SignInPageBehaviour<PostgresSignInPagesFixture>(f);
