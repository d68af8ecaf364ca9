using System.Net;
using System.Net.Http.Json;
using Pan.General.Member;
using Pan.Server.Pages;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Pages;

/// <summary>The hosted /account/verify-email page, followed from a real mail with HttpClient.</summary>
public abstract class VerifyEmailPageBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    [Fact]
    public async Task Link_ConfirmsTheEmail_ThenLinksToTheRedirect_AndWorksOnce()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address, EmailFixture.AllowedRedirect);
        var link = SmtpInbox.LinkOf(await mail.MailAsync(address), "/account/verify-email");

        using var browser = new PageClient(fixture.Server.HttpUri, "en");
        using var page = await browser.GetAsync(link);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Your email address is confirmed.", html, StringComparison.Ordinal);
        Assert.Contains("href=\"https://app.example.com/done?x=1\"", html, StringComparison.Ordinal);
        Assert.Contains("http-equiv=\"refresh\" content=\"3;url=https://app.example.com/done?x=1\"", html, StringComparison.Ordinal);
        AssertSafeHeaders(page);
        Assert.True(await mail.IsVerifiedAsync(member.Uid));

        using var again = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("expired or was already used", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Two nodes on one database: a link mailed through one node confirms the email on the other, and is then spent on both.</summary>
    [Fact]
    public async Task TwoNodes_ALinkMailedThroughOne_ConfirmsOnTheOther_AndIsThenSpentOnBoth()
    {
        await using var other = await fixture.StartNodeWithAsync(new Dictionary<string, string?>());
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address, EmailFixture.AllowedRedirect);
        var link = SmtpInbox.LinkOf(await mail.MailAsync(address), "/account/verify-email");
        Assert.Equal(fixture.Server.HttpUri.Authority, link.Authority);

        using var browser = new PageClient(other.HttpUri, "en");
        using var page = await browser.GetAsync(new Uri(link.PathAndQuery, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Your email address is confirmed.", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await mail.IsVerifiedAsync(member.Uid));

        foreach (var node in new[] { fixture.Server, other })
        {
            using var fresh = new PageClient(node.HttpUri, "en");
            using var again = await fresh.GetAsync(new Uri(link.PathAndQuery, UriKind.Relative));
            Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
            Assert.Contains("expired or was already used", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Link_WhileTheDatabaseStaysLockedPastTheTimeout_IsAServiceUnavailablePage_AndConfirmsOnceItIsFree()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        var link = SmtpInbox.LinkOf(await mail.MailAsync(address), "/account/verify-email");
        // Why a node of its own: its connection gives up waiting for a lock after about a second.
        var timeout = fixture.Database.Provider == "postgres" ? ";Command Timeout=1" : ";Default Timeout=1";
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?> { ["ConnectionStrings:Pan"] = fixture.Database.ConnectionString + timeout });
        using var browser = new PageClient(node.HttpUri, "zh-TW");
        var path = new Uri(link.PathAndQuery, UriKind.Relative);

        await using (await DatabaseLock.HoldAsync(fixture.Database, "members"))
        {
            using var refused = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            AssertSafeHeaders(refused);
            Assert.Contains("服務暫時無法使用，請稍後再試。", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.False(await mail.IsVerifiedAsync(member.Uid));
        using var page = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.True(await mail.IsVerifiedAsync(member.Uid));
    }

    /// <summary>
    /// A suspended member's mailed link keeps nothing, as VerifyEmailCode keeps nothing for one: the page's usual
    /// refusal (400, no word of the suspension), the address not marked and the link unspent, so it confirms once the
    /// suspension is lifted.
    /// </summary>
    [Fact]
    public async Task Link_OfASuspendedMember_IsTheUsualRefusal_AndKeepsNothing_UntilTheSuspensionLifts()
    {
        var (member, link) = await UnverifiedMemberWithLinkAsync();
        await Pan.Tests.Admin.TestSuspensions.SuspendAsync(fixture.Server, member.Uid);

        using var browser = new PageClient(fixture.Server.HttpUri, "en");
        using (var refused = await browser.GetAsync(link))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var html = await refused.Content.ReadAsStringAsync();
            Assert.Contains("expired or was already used", html, StringComparison.Ordinal);
            Assert.DoesNotContain("suspend", html, StringComparison.OrdinalIgnoreCase);
        }

        Assert.False(await mail.IsVerifiedAsync(member.Uid));
        await Pan.Tests.Admin.TestSuspensions.RestoreAsync(fixture.Server, member.Uid);
        using var page = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.True(await mail.IsVerifiedAsync(member.Uid));
    }

    /// <summary>
    /// The link followed while the member's suspension is uncommitted (on PostgreSQL the link's transaction waits at
    /// the member's row, then reads the suspension there; SQLite meets the suspension's write lock or its commit): the
    /// usual refusal, the address not marked.
    /// </summary>
    [Fact]
    public async Task Link_WhileTheMembersSuspensionIsUncommitted_IsTheUsualRefusal_AndMarksNothing()
    {
        var (member, link) = await UnverifiedMemberWithLinkAsync();
        using var browser = new PageClient(fixture.Server.HttpUri, "en");
        Task<HttpResponseMessage> call;
        await using (var suspension = await Pan.Tests.Admin.UncommittedSuspension.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => browser.GetAsync(link));
            Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        using var page = await call;
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.False(await mail.IsVerifiedAsync(member.Uid));
    }

    private async Task<(TestMember Member, Uri Link)> UnverifiedMemberWithLinkAsync()
    {
        var member = await mail.PhonelessAsync(Mailboxes.NewAddress(), verified: false, null, Pan.Server.Omniauth.OmniauthTokens.AuthMethod);
        await new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc).SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
        return (member, SmtpInbox.LinkOf(await mail.MailAsync(member.Email!), "/account/verify-email"));
    }

    [Theory]
    [InlineData("/account/verify-email")]
    [InlineData("/account/verify-email?token=")]
    [InlineData("/account/verify-email?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("/account/verify-email?token=%3Cscript%3Ealert(1)%3C%2Fscript%3E")]
    public async Task UnknownToken_ShowsTheErrorState_WithTheSameHeaders(string path)
    {
        using var browser = new PageClient(fixture.Server.HttpUri);
        using var page = await browser.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        AssertSafeHeaders(page);
    }

    [Fact]
    public async Task Language_FollowsTheQueryThenAcceptLanguage()
    {
        var bad = new Uri("/account/verify-email?token=x", UriKind.Relative);
        using var chinese = new PageClient(fixture.Server.HttpUri, "zh-TW,zh;q=0.9,en;q=0.8");
        Assert.Contains("此連結已失效", await (await chinese.GetAsync(bad)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("lang=\"zh-Hant-TW\"", await (await chinese.GetAsync(bad)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("This link has expired", await (await chinese.GetAsync(new Uri("/account/verify-email?token=x&lang=en", UriKind.Relative))).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var french = new PageClient(fixture.Server.HttpUri, "fr-FR");
        Assert.Contains("This link has expired", await (await french.GetAsync(bad)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("此連結已失效", await (await french.GetAsync(new Uri("/account/verify-email?token=x&lang=zh-TW", UriKind.Relative))).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MailedLinks_UseTheConfiguredBaseUrl_NotTheRequestHost()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        var proof = await mail.ProofAsync(member);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/member/set-member-email")
        {
            // Over HTTP/JSON the verify token is verify_token (or verifyToken), as any field.
            Content = JsonContent.Create(new { access_token = member.AccessToken, email = address, verify_token = proof }),
        };
        request.Headers.Host = "evil.example.net";
        request.Headers.Add("X-Forwarded-Host", "evil.example.net");
        using var response = await fixture.Server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var link = SmtpInbox.LinkOf(await mail.MailAsync(address), "/account/verify-email");
        Assert.Equal(fixture.Server.HttpUri.Authority, link.Authority);
        Assert.DoesNotContain("evil", (await mail.MailAsync(address)).HtmlBody, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every call that mails a link or a code, made through a node that trusts the caller as a proxy (so forwarded
    /// headers are read where Pan reads any), with a hostile Host, X-Forwarded-Host, X-Forwarded-Proto and Forwarded:
    /// each mail's links are on the configured base URL and nothing of the hostile host is in it.
    /// </summary>
    [Fact]
    public async Task EveryMailedLinkAndCode_IgnoresHostileHostAndForwardedHeaders_BehindATrustedProxy()
    {
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?> { ["Pan:Network:TrustedProxies:0"] = "127.0.0.1" });
        async Task PostAsync(string path, object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            request.Headers.Host = "evil.example.net";
            request.Headers.Add("X-Forwarded-Host", "evil.example.net");
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("Forwarded", "for=127.0.0.1;host=evil.example.net;proto=https");
            using var response = await node.Http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        var mails = new List<(string Address, int Number, string Page)>();

        // A first email (SetMemberEmail) and a changed one (UpdateCredential): the verify-email link.
        var setter = await mail.RegisterAsync();
        var first = Mailboxes.NewAddress();
        await PostAsync("/v2/member/set-member-email", new { access_token = setter.AccessToken, email = first, verify_token = await mail.ProofAsync(setter) });
        mails.Add((first, 1, "/account/verify-email"));
        var changer = await mail.RegisterWithEmailAsync();
        var changed = Mailboxes.NewAddress();
        await PostAsync("/v2/member/update-credential", new { pan_auth_token = changer.AuthToken, verify_token = await mail.ProofAsync(changer), email = changed });
        mails.Add((changed, 1, "/account/verify-email"));

        // A reset by email: the reset link; an email-code sign-in: the code only.
        var resetter = await mail.RegisterWithEmailAsync();
        await PostAsync("/v2/member/auth-reset-verify-email", new { display_name = resetter.Name, email = resetter.Email });
        mails.Add((resetter.Email!, 2, "/account/reset-password"));
        var signer = await mail.RegisterWithEmailAsync();
        await PostAsync("/v2/member/login", new { phase = "PHASE_CHECK_EXISTENCE", login_type = "LOGIN_TYPE_EMAIL_OTC", phase_check_existence_value = signer.Email });
        mails.Add((signer.Email!, 2, string.Empty));

        foreach (var (address, number, page) in mails)
        {
            var message = await mail.MailAsync(address, number);
            var whole = (message.TextBody ?? string.Empty) + (message.HtmlBody ?? string.Empty);
            Assert.DoesNotContain("evil", whole, StringComparison.OrdinalIgnoreCase);
            if (page.Length > 0)
            {
                var link = SmtpInbox.LinkOf(message, page);
                Assert.Equal(node.HttpUri.GetLeftPart(UriPartial.Authority), link.GetLeftPart(UriPartial.Authority));
            }
        }
    }

    internal static void AssertSafeHeaders(HttpResponseMessage page)
    {
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Equal(HtmlPage.ContentSecurityPolicy, csp);
        Assert.StartsWith("default-src 'none'; style-src 'sha256-", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", Assert.Single(page.Headers.GetValues("X-Frame-Options")));
        Assert.Contains("no-store", page.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.Equal("no-referrer", Assert.Single(page.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
    }
}

public sealed class VerifyEmailPageBehaviour_Sqlite(SqliteEmailFixture f) : VerifyEmailPageBehaviour<SqliteEmailFixture>(f);

public sealed class VerifyEmailPageBehaviour_Postgres(PostgresEmailFixture f) : VerifyEmailPageBehaviour<PostgresEmailFixture>(f);
