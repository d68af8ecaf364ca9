using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Pan.Server.Credentials;
using Pan.Server.Members;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Pan.Tests.Pages;

namespace Pan.Tests.SignInPages;

/// <summary>The email + password variant of the hosted sign-in pages, for members who set them.</summary>
public abstract class EmailSignInPageBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : SignInPagesFixture
{
    private Uri Base => fixture.Server.HttpUri;

    [SeamFact]
    public async Task EmailAndPassword_SignIn_AndAWrongPasswordOrUnknownEmailReadAlike()
    {
        var (member, email, password) = await MemberWithPasswordAsync();
        using var browser = new PageClient(Base, "en");
        var form = await FormAsync(browser);

        var (unknown, unknownHtml) = await SignInFlow.PostAsync(browser, form, [new("identifier", "nobody-" + email), new("password", password)]);
        var (wrong, wrongHtml) = await SignInFlow.PostAsync(browser, unknownHtml, [new("identifier", email), new("password", password + "x")]);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("The email (or display name) or the password is wrong.", unknownHtml, StringComparison.Ordinal);
        Assert.Contains("The email (or display name) or the password is wrong.", wrongHtml, StringComparison.Ordinal);
        Assert.Null(SignInFlow.MemberCookieOf(wrong));
        await ClearFailuresAsync(member.Uid);

        var (done, _) = await SignInFlow.PostAsync(browser, wrongHtml, [new("identifier", email.ToUpperInvariant()), new("password", password)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.NotNull(SignInFlow.MemberCookieOf(done));
        Assert.Equal(member.DisplayName, await SignInFlow.SignedInAsAsync(browser));
    }

    [SeamFact]
    public async Task EmailSignIn_OfOneMemberOfASharedPhone_SignsInThatMember_WithoutTheMemberChooser()
    {
        // A password proves its member, not the phone: the chooser (the phone's members) follows a phone sign-in only.
        var (member, email, password) = await MemberWithPasswordAsync();
        await TestMembers.AddToPhoneAsync(fixture.Server, member);
        using var browser = new PageClient(Base, "en");
        var form = await FormAsync(browser);

        var (done, _) = await SignInFlow.PostAsync(browser, form, [new("identifier", email), new("password", password)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.NotNull(SignInFlow.MemberCookieOf(done));
        Assert.Equal(member.DisplayName, await SignInFlow.SignedInAsAsync(browser));
    }

    [SeamFact]
    public async Task AMemberWithASecurityQuestion_AnswersIt_OnASecondForm()
    {
        var (member, email, password) = await MemberWithPasswordAsync("Rex");
        using var browser = new PageClient(Base, "zh-TW");
        var form = await FormAsync(browser);
        var (asked, askedHtml) = await SignInFlow.PostAsync(browser, form, [new("identifier", email), new("password", password)]);
        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        Assert.Contains("請再次輸入密碼並回答安全提問。", askedHtml, StringComparison.Ordinal);
        Assert.Contains("name=\"answer\"", askedHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("First pet", askedHtml, StringComparison.Ordinal);

        var (wrong, wrongHtml) = await SignInFlow.PostAsync(browser, askedHtml, [new("password", password), new("answer", "Max")]);
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("name=\"answer\"", wrongHtml, StringComparison.Ordinal);
        await ClearFailuresAsync(member.Uid);

        var (done, _) = await SignInFlow.PostAsync(browser, wrongHtml, [new("password", password), new("answer", " rex ")]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.NotNull(await SignInFlow.SignedInAsAsync(browser));
    }

    private static async Task<string> FormAsync(PageClient browser)
    {
        using var page = await browser.GetAsync(new Uri("/account/sign-in-email?returnUrl=%2Fhealthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        SignInFlow.AssertSafeHeaders(page);
        return await page.Content.ReadAsStringAsync();
    }

    private async Task<(Pan.Data.Members.Member Member, string Email, string Password)> MemberWithPasswordAsync(string? answer = null)
    {
        var email = $"{Guid.NewGuid():N}@pan.test";
        var member = await TestMembers.CreateAsync(fixture.Server, m =>
        {
            m.Email = email;
            m.EmailKey = EmailAddresses.Key(email);
            m.EmailVerified = true;
        });
        var password = Mailboxes.StrongPassword();
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<CredentialStore>();
        await store.SetPasswordAsync(member.Uid, password, null, CancellationToken.None);
        if (answer is not null)
        {
            await store.SetSecurityQuestionAsync(member.Uid, "First pet?", answer, CancellationToken.None);
        }

        return (member, email, password);
    }

    private async Task ClearFailuresAsync(long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<Pan.Server.BruteForce.FailureCounter>().ResetAsync(uid, CancellationToken.None);
    }
}

public sealed class EmailSignInPageBehaviour_Sqlite(SqliteSignInPagesFixture f) : EmailSignInPageBehaviour<SqliteSignInPagesFixture>(f);

public sealed class EmailSignInPageBehaviour_Postgres(PostgresSignInPagesFixture f) : EmailSignInPageBehaviour<PostgresSignInPagesFixture>(f);
