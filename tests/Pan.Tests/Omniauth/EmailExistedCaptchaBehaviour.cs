using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Omniauth;

/// <summary>
/// email_existed's captcha step (<c>Pan:Captcha:Mode</c> off, always, risk), verified over HTTP by a loopback server
/// that speaks reCAPTCHA. Every test runs on its own nodes with its own clock hour, so the shared per-address
/// windows of one test do not reach another's.
/// </summary>
public abstract class EmailExistedCaptchaBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : OmniauthFixture
{
    private const string Refused = """{"code":1100,"message":"Captcha required"}""";
    private const string Failed = """{"code":1100,"message":"Captcha failed"}""";

    private FakeRecaptchaServer google = null!;

    public async Task InitializeAsync() => google = await FakeRecaptchaServer.StartAsync();

    public async Task DisposeAsync() => await google.DisposeAsync();

    [Fact]
    public async Task EmailExisted_CaptchaOff_AnswersWithoutAToken_EvenPastTheCaptchaThreshold()
    {
        var email = await KnownEmailAsync();
        await using var node = await NodeAsync("off", hour: 1, ("Pan:Omniauth:EmailExisted:CaptchaAfterPerIpPerHour", "1"));

        var answers = new[] { await EmailExistedAsync(node, email), await EmailExistedAsync(node, email), await EmailExistedAsync(node, "nobody@example.com") };

        Assert.Equal([200, 200, 200], answers.Select(a => a.Status));
        Assert.Equal(["true", "true", "false"], answers.Select(a => a.Body.GetProperty("data").GetRawText()));
        Assert.Empty(google.Received);
    }

    [Fact]
    public async Task EmailExisted_CaptchaAlways_WithoutAToken_IsRefused_TheSameWhetherTheEmailExistsOrNot()
    {
        var email = await KnownEmailAsync();
        await using var node = await NodeAsync("always", hour: 2);

        var known = await EmailExistedAsync(node, email);
        var unknown = await EmailExistedAsync(node, $"nobody{Guid.NewGuid():N}@example.com");
        var blank = await EmailExistedAsync(node, email, token: "  ");

        Assert.Equal((403, Refused), (known.Status, known.Body.GetRawText()));
        Assert.Equal((403, Refused), (unknown.Status, unknown.Body.GetRawText()));
        Assert.Equal((403, Refused), (blank.Status, blank.Body.GetRawText()));
        Assert.Empty(google.Received);
    }

    [Fact]
    public async Task EmailExisted_CaptchaAlways_WithARefusedToken_IsRefused_TheSameWhetherTheEmailExistsOrNot()
    {
        var email = await KnownEmailAsync();
        await using var node = await NodeAsync("always", hour: 3);
        var reused = google.Accept();
        Assert.Equal(200, (await EmailExistedAsync(node, email, reused)).Status);

        var forged = await EmailExistedAsync(node, email, "forged-token");
        var again = await EmailExistedAsync(node, email, reused);
        var unknown = await EmailExistedAsync(node, $"nobody{Guid.NewGuid():N}@example.com", "forged-token");

        Assert.Equal((403, Failed), (forged.Status, forged.Body.GetRawText()));
        Assert.Equal((403, Failed), (again.Status, again.Body.GetRawText()));
        Assert.Equal((403, Failed), (unknown.Status, unknown.Body.GetRawText()));
        Assert.Contains(google.Received, r => r.Api == "siteverify" && r.Token == "forged-token" && r.Secret == FakeRecaptchaServer.Secret);
    }

    [Fact]
    public async Task EmailExisted_CaptchaAlways_WithAValidToken_AnswersTrueOrFalse()
    {
        var email = await KnownEmailAsync();
        await using var node = await NodeAsync("always", hour: 4);

        var known = await EmailExistedAsync(node, email.ToUpperInvariant(), google.Accept());
        var unknown = await EmailExistedAsync(node, $"nobody{Guid.NewGuid():N}@example.com", google.Accept(), form: true);

        Assert.Equal((200, """{"code":200,"message":"ok","data":true}"""), (known.Status, known.Body.GetRawText()));
        Assert.Equal((200, """{"code":200,"message":"ok","data":false}"""), (unknown.Status, unknown.Body.GetRawText()));
    }

    [Fact]
    public async Task EmailExisted_RecaptchaPlatform_PicksThatPlatformsKeys()
    {
        var email = await KnownEmailAsync();
        await using var node = await NodeAsync("always", hour: 5);

        var enterprise = await EmailExistedAsync(node, email, google.Accept(score: 0.9), platform: "android_enterprise");
        var bad = await EmailExistedAsync(node, email, google.Accept(), platform: "desktop");

        Assert.Equal(200, enterprise.Status);
        Assert.Contains(google.Received, r => r.Api == "assessments" && r.ProjectId == FakeRecaptchaServer.ProjectId);
        Assert.Equal(400, bad.Status);
        Assert.StartsWith("Invalid parameter recaptcha_platform:", bad.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmailExisted_CaptchaRisk_IsFreeUpToTheThreshold_SharedByEveryNode_ThenNeedsAValidToken()
    {
        var email = await KnownEmailAsync();
        var clock = Clock(hour: 6);
        var threshold = ("Pan:Omniauth:EmailExisted:CaptchaAfterPerIpPerHour", "3");
        await using var a = await NodeAsync("risk", clock, threshold);
        await using var b = await NodeAsync("risk", clock, threshold);

        var free = new[] { await EmailExistedAsync(a, email), await EmailExistedAsync(b, email), await EmailExistedAsync(a, "nobody@example.com") };
        var overKnown = await EmailExistedAsync(b, email);
        var overUnknown = await EmailExistedAsync(a, $"nobody{Guid.NewGuid():N}@example.com");
        var withToken = await EmailExistedAsync(b, email, google.Accept());

        Assert.Equal(["true", "true", "false"], free.Select(f => f.Body.GetProperty("data").GetRawText()));
        Assert.Equal((403, Refused), (overKnown.Status, overKnown.Body.GetRawText()));
        Assert.Equal((403, Refused), (overUnknown.Status, overUnknown.Body.GetRawText()));
        Assert.Equal((200, "true"), (withToken.Status, withToken.Body.GetProperty("data").GetRawText()));
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(200, (await EmailExistedAsync(a, email)).Status);
    }

    [Fact]
    public async Task EmailExisted_RefusedCalls_StillCountAgainstTheRateLimit()
    {
        var email = await KnownEmailAsync();
        await using var node = await NodeAsync("always", hour: 8, ("Pan:Omniauth:EmailExisted:PerIpPerHour", "2"));

        var first = await EmailExistedAsync(node, email);
        var second = await EmailExistedAsync(node, email, "forged-token");
        var third = await EmailExistedAsync(node, email, google.Accept());

        Assert.Equal([403, 403, 429], new[] { first.Status, second.Status, third.Status });
        Assert.Equal("""{"code":429,"message":"Too many requests"}""", third.Body.GetRawText());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EmailExisted_RecaptchaDown_FailsClosedWith503_AndNoAnswer(bool unreachable)
    {
        var email = await KnownEmailAsync();
        var changes = new List<(string, string)>();
        if (unreachable)
        {
            changes.Add(("Pan:Captcha:SiteVerifyUrl", "http://127.0.0.1:9/recaptcha/api/siteverify"));
        }
        else
        {
            google.FailWith = HttpStatusCode.ServiceUnavailable;
        }

        await using var node = await NodeAsync("always", hour: unreachable ? 9 : 10, [.. changes]);

        var down = await EmailExistedAsync(node, email, google.Accept());

        Assert.Equal((503, """{"code":503,"message":"Captcha unavailable"}"""), (down.Status, down.Body.GetRawText()));
    }

    private static FakeTimeProvider Clock(int hour) => new(new DateTimeOffset(2032, 5, 1, hour, 10, 0, TimeSpan.Zero));

    private Task<PanServer> NodeAsync(string mode, int hour, params (string Key, string Value)[] changes) =>
        NodeAsync(mode, Clock(hour), changes);

    private Task<PanServer> NodeAsync(string mode, FakeTimeProvider clock, params (string Key, string Value)[] changes)
    {
        var settings = google.Settings(mode);
        foreach (var (key, value) in changes)
        {
            settings[key] = value;
        }

        return fixture.StartNodeAsync(settings, clock);
    }

    /// <summary>Signs a new social user up on the fixture's server (captcha off) and returns its email.</summary>
    private async Task<string> KnownEmailAsync()
    {
        var user = SocialUsers.New();
        var login = fixture.Providers.SignIn("facebook", user);
        var (status, _, _) = await OmniauthFixture.PostAsync(fixture.Server, "through_omniauth", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["provider"] = login.Provider,
            ["omniauth_token"] = login.Token,
        });
        Assert.Equal(200, status);
        return user.Email!;
    }

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> EmailExistedAsync(
        PanServer on, string email, string? token = null, string? platform = null, bool form = false) =>
        OmniauthFixture.PostAsync(on, "email_existed", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["email"] = email,
            ["recaptcha_token"] = token,
            ["recaptcha_platform"] = platform,
        }, form);
}

public sealed class EmailExistedCaptchaBehaviour_Sqlite(SqliteOmniauthFixture f) : EmailExistedCaptchaBehaviour<SqliteOmniauthFixture>(f);

public sealed class EmailExistedCaptchaBehaviour_Postgres(PostgresOmniauthFixture f) : EmailExistedCaptchaBehaviour<PostgresOmniauthFixture>(f);
