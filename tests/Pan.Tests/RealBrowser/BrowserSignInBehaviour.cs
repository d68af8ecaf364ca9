using Microsoft.EntityFrameworkCore;
using Pan.Tests.Members;
using Pan.Tests.SignInPages;

namespace Pan.Tests.RealBrowser;

/// <summary>
/// A real browser (Debian's Chromium, headless, driven by playwright-core) signs in through the hosted pages with the
/// code the SMS webhook received, and lands on the returnUrl signed in.
/// </summary>
public abstract class BrowserSignInBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : SignInPagesFixture
{
    private readonly SignInFlow flow = new(fixture);

    [Fact]
    public async Task ABrowser_SignsInByPhoneAndSmsCode_AndLandsOnTheReturnUrl()
    {
        var name = Pan.Tests.PhoneFlows.Phones.NewName();
        var (_, e164) = await flow.Phones.RegisterAsync(name);
        await using var harness = await BrowserHarness.StartAsync(fixture.Inbox);
        var server = fixture.Server.HttpUri;
        var landing = new Uri(server, "/healthz?from=browser");

        var result = await BrowserRunner.WalkAsync(new
        {
            start = new Uri(server, SignInFlow.SignInUrl(landing.PathAndQuery)).ToString(),
            stopAt = landing.ToString(),
            codeUrl = harness.CodeUrl(e164),
            phone = new { countryCode = "886", national = e164 },
            check = new Uri(server, "/account/sign-in?lang=en").ToString(),
            screenshots = BrowserRunner.Screenshots,
            name = $"sign-in-{Suffix}",
        });

        Assert.True(result.Ok, result.Output);
        Assert.Equal(landing.ToString(), result.FinalUrl);
        Assert.Equal(["phone", "code"], Pages(result));
        Assert.Contains($"You are signed in as {name}.", result.Check, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABrowser_InChinese_ChoosesOneOfThePhonesMembers()
    {
        var owner = await TestMembers.CreateAsync(fixture.Server);
        var second = await TestMembers.AddToPhoneAsync(fixture.Server, owner);
        var e164 = await TestMembers.WithDbAsync(fixture.Server, db => db.Accounts.Where(a => a.Id == owner.AccountId).Select(a => a.PhoneE164!).SingleAsync());
        await using var harness = await BrowserHarness.StartAsync(fixture.Inbox);
        var server = fixture.Server.HttpUri;
        var landing = new Uri(server, "/healthz?from=chooser");

        var result = await BrowserRunner.WalkAsync(new
        {
            start = new Uri(server, SignInFlow.SignInUrl(landing.PathAndQuery)).ToString(),
            stopAt = landing.ToString(),
            codeUrl = harness.CodeUrl(e164),
            phone = new { countryCode = "886", national = e164 },
            member = second.ObjectId.ToString("D"),
            locale = "zh-TW",
            check = new Uri(server, "/account/sign-in").ToString(),
            screenshots = BrowserRunner.Screenshots,
            name = $"choose-member-{Suffix}",
        });

        Assert.True(result.Ok, result.Output);
        Assert.Equal(landing.ToString(), result.FinalUrl);
        Assert.Equal(["phone", "code", "chooser"], Pages(result));
        Assert.Contains($"您目前以 {second.DisplayName} 登入。", result.Check, StringComparison.Ordinal);
    }

    /// <summary>The pages the browser filled in. Why without "forwarding": the signed-in page moves on at once, so whether the script saw it is timing.</summary>
    internal static string[] Pages(WalkResult result) => [.. result.Visited.Where(v => v != "forwarding")];

    private static string Suffix => typeof(TFixture).Name.StartsWith("Postgres", StringComparison.Ordinal) ? "postgres" : "sqlite";
}

public sealed class BrowserSignInBehaviour_Sqlite(SqliteSignInPagesFixture f) : BrowserSignInBehaviour<SqliteSignInPagesFixture>(f);

public sealed class BrowserSignInBehaviour_Postgres(PostgresSignInPagesFixture f) : BrowserSignInBehaviour<PostgresSignInPagesFixture>(f);
