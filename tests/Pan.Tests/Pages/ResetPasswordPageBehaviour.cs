using System.Net;
using Pan.General.Member;
using Pan.Server.Credentials;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Pan.Tests.Pages;

/// <summary>The hosted /account/reset-password page: the mailed link, the form with its antiforgery token, and every state.</summary>
public abstract class ResetPasswordPageBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    [Fact]
    public async Task UnknownLink_ShowsTheExpiredState()
    {
        using var browser = new PageClient(fixture.Server.HttpUri, "en");
        using var page = await browser.GetAsync(new Uri("/account/reset-password?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains("This reset link has expired or was already used.", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        VerifyEmailPageBehaviour<TFixture>.AssertSafeHeaders(page);
    }

    [Fact]
    public async Task Post_WithoutTheAntiforgeryToken_IsRefused_AndTheLinkStaysUsable()
    {
        var (member, link) = await ResetLinkAsync();
        using var browser = new PageClient(fixture.Server.HttpUri, "en");
        var token = System.Web.HttpUtility.ParseQueryString(link.Query)["token"]!;
        var password = Mailboxes.StrongPassword();
        using var post = await browser.PostFormAsync(new Uri("/account/reset-password", UriKind.Relative),
            [new("token", token), new("password", password), new("confirm_password", password)]);
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Contains("The form has expired.", await post.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        VerifyEmailPageBehaviour<TFixture>.AssertSafeHeaders(post);

        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        Assert.Equal(43, (await mail.Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code })).AuthResetToken.Length);
    }

    /// <summary>
    /// Two nodes on one database: a reset link mailed through one node is opened on the other, its form posted back to the
    /// first (the antiforgery cookie and token made by one node are taken by the other), and the spent link is then
    /// refused on both, as is the code mailed with it.
    /// </summary>
    [Fact]
    public async Task TwoNodes_ALinkMailedThroughOne_OpenedOnTheOther_ResetsOnce_AndIsThenSpentOnBoth()
    {
        await using var other = await fixture.StartNodeWithAsync(new Dictionary<string, string?>());
        var (member, link) = await ResetLinkAsync();
        Assert.Equal(fixture.Server.HttpUri.Authority, link.Authority);
        var onOther = new Uri(other.HttpUri, link.PathAndQuery);

        using var browser = new PageClient(other.HttpUri, "en");
        using var form = await browser.GetAsync(onOther);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var password = Mailboxes.StrongPassword();
        var html = await PostAsync(browser, link, await form.Content.ReadAsStringAsync(), password, password, HttpStatusCode.OK);
        Assert.Contains("Your password has been reset.", html, StringComparison.Ordinal);
        await using (var scope = other.Services.CreateAsyncScope())
        {
            Assert.Equal(SecretCheck.Ok, await scope.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(member.Uid, password, CancellationToken.None));
        }

        foreach (var page in new[] { link, onOther })
        {
            using var fresh = new PageClient(page, "en");
            using var again = await fresh.GetAsync(page);
            Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        }

        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        await Errors.ExpectAsync(
            () => new MemberServiceV2.MemberServiceV2Client(other.Grpc).AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code }).ResponseAsync,
            Grpc.Core.StatusCode.InvalidArgument, "AuthResetVerifyEmailCodeResponse.ErrCodeInvalid");
    }

    [SeamFact]
    public async Task Form_ResetsThePassword_ShowingEachErrorState_ThenTheLinkIsUsedUp()
    {
        var (member, link) = await ResetLinkAsync(EmailFixture.AllowedRedirect);
        using var browser = new PageClient(fixture.Server.HttpUri, "en");
        using var form = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        VerifyEmailPageBehaviour<TFixture>.AssertSafeHeaders(form);
        var html = await form.Content.ReadAsStringAsync();
        Assert.DoesNotContain("name=\"answer\"", html, StringComparison.Ordinal);
        Assert.Contains("Set-Cookie", form.Headers.ToString(), StringComparison.Ordinal);

        var password = Mailboxes.StrongPassword();
        html = await PostAsync(browser, link, html, password, password + "x", HttpStatusCode.BadRequest);
        Assert.Contains("The two passwords differ.", html, StringComparison.Ordinal);
        html = await PostAsync(browser, link, html, "", "", HttpStatusCode.BadRequest);
        Assert.Contains("Enter a new password.", html, StringComparison.Ordinal);
        html = await PostAsync(browser, link, html, "password", "password", HttpStatusCode.BadRequest);
        Assert.Contains("This password is not accepted: ", html, StringComparison.Ordinal);

        html = await PostAsync(browser, link, html, password, password, HttpStatusCode.OK);
        Assert.Contains("Your password has been reset.", html, StringComparison.Ordinal);
        Assert.Contains("href=\"https://app.example.com/done?x=1\"", html, StringComparison.Ordinal);
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            Assert.Equal(SecretCheck.Ok, await scope.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(member.Uid, password, CancellationToken.None));
        }

        using var again = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        await Errors.ExpectAsync(() => mail.Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code }).ResponseAsync,
            Grpc.Core.StatusCode.InvalidArgument, "AuthResetVerifyEmailCodeResponse.ErrCodeInvalid");
    }

    [SeamFact]
    public async Task Form_AsksTheSecurityQuestion_InChinese()
    {
        var member = await mail.RegisterWithEmailAsync();
        await mail.SetCredentialsAsync(member.Uid, Mailboxes.StrongPassword(), "<b>最喜歡的水果？</b>", "芒果");
        var (_, link) = await ResetLinkAsync(member: member);
        using var browser = new PageClient(fixture.Server.HttpUri, "zh-TW");
        var html = await (await browser.GetAsync(link)).Content.ReadAsStringAsync();
        Assert.Contains("安全提問", html, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", html, StringComparison.Ordinal);

        var password = Mailboxes.StrongPassword();
        html = await PostAsync(browser, link, html, password, password, HttpStatusCode.BadRequest, answer: "香蕉");
        Assert.Contains("安全提問的答案未填寫或不正確", html, StringComparison.Ordinal);
        await mail.ClearFailuresAsync(member.Uid);
        html = await PostAsync(browser, link, html, password, password, HttpStatusCode.OK, answer: "芒果");
        Assert.Contains("您的密碼已重設", html, StringComparison.Ordinal);
    }

    private static async Task<string> PostAsync(PageClient browser, Uri page, string formHtml, string password, string confirm, HttpStatusCode expected, string? answer = null)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("af", PageClient.Hidden(formHtml, "af")),
            new("token", PageClient.Hidden(formHtml, "token")),
            new("password", password),
            new("confirm_password", confirm),
        };
        if (answer is not null)
        {
            fields.Add(new("answer", answer));
        }

        var action = new Uri(page, PageClient.Action(formHtml));
        Assert.Equal(page.AbsolutePath, action.AbsolutePath);
        using var response = await browser.PostFormAsync(action, fields);
        Assert.Equal(expected, response.StatusCode);
        VerifyEmailPageBehaviour<TFixture>.AssertSafeHeaders(response);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<(TestMember Member, Uri Link)> ResetLinkAsync(string? redirectSuccess = null, TestMember? member = null)
    {
        member ??= await mail.RegisterWithEmailAsync();
        await mail.Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email!, RedirectSuccess = redirectSuccess ?? string.Empty });
        return (member, SmtpInbox.LinkOf(await mail.MailAsync(member.Email!, 2), "/account/reset-password"));
    }
}

public sealed class ResetPasswordPageBehaviour_Sqlite(SqliteEmailFixture f) : ResetPasswordPageBehaviour<SqliteEmailFixture>(f);

public sealed class ResetPasswordPageBehaviour_Postgres(PostgresEmailFixture f) : ResetPasswordPageBehaviour<PostgresEmailFixture>(f);
