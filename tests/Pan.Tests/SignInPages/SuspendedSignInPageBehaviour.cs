using System.Net;
using Pan.General.Member;
using Pan.Tests.Admin;
using Pan.Tests.Pages;

namespace Pan.Tests.SignInPages;

/// <summary>The hosted sign-in pages refuse a suspended member with a plain page (HTTP 403), once the code is right.</summary>
public abstract class SuspendedSignInPageBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : SignInPagesFixture
{
    private readonly SignInFlow flow = new(fixture);

    [Fact]
    public async Task SignInPage_ForAPhoneWhoseMembersAreAllSuspended_ShowsTheSuspension_With403_AndSignsNothingIn()
    {
        var (auth, e164) = await flow.Phones.RegisterAsync();
        var owner = (await flow.Client.MeAsync(new MeRequest { AccessToken = await flow.Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        await TestSuspensions.SuspendAsync(fixture.Server, owner.Uid);
        using var browser = new PageClient(fixture.Server.HttpUri, "en");

        var (sent, codeForm) = await SignInFlow.SendPhoneAsync(browser, e164);
        sent.Dispose();
        var code = await Pan.Tests.PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var (done, html) = await SignInFlow.PostAsync(browser, codeForm, [new("code", code)]);

        Assert.Equal(HttpStatusCode.Forbidden, done.StatusCode);
        Assert.Contains("This member is suspended", html, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", html, StringComparison.Ordinal);
        Assert.Null(SignInFlow.MemberCookieOf(done));
        Assert.Null(await SignInFlow.SignedInAsAsync(browser));
        done.Dispose();
    }

    [Fact]
    public async Task SignInPage_ChoosingASuspendedMember_ShowsTheSuspension_With403()
    {
        var (auth, e164) = await flow.Phones.RegisterAsync();
        var sibling = await flow.Phones.NewMemberWithPasswordAsync(auth, "correct horse battery staple 52");
        using var browser = new PageClient(fixture.Server.HttpUri, "en");
        var (sent, codeForm) = await SignInFlow.SendPhoneAsync(browser, e164);
        sent.Dispose();
        var code = await Pan.Tests.PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var (chooser, chooserHtml) = await SignInFlow.PostAsync(browser, codeForm, [new("code", code)]);
        Assert.Equal(HttpStatusCode.OK, chooser.StatusCode);
        chooser.Dispose();
        await TestSuspensions.SuspendAsync(fixture.Server, sibling.Uid);

        var (chosen, html) = await SignInFlow.PostFormWithAsync(browser, chooserHtml, "member", sibling.ObjectId);

        Assert.Equal(HttpStatusCode.Forbidden, chosen.StatusCode);
        Assert.Contains("This member is suspended", html, StringComparison.Ordinal);
        Assert.Null(await SignInFlow.SignedInAsAsync(browser));
        chosen.Dispose();
    }
}

public sealed class SuspendedSignInPageBehaviour_Sqlite(SqliteSignInPagesFixture f) : SuspendedSignInPageBehaviour<SqliteSignInPagesFixture>(f);

public sealed class SuspendedSignInPageBehaviour_Postgres(PostgresSignInPagesFixture f) : SuspendedSignInPageBehaviour<PostgresSignInPagesFixture>(f);
