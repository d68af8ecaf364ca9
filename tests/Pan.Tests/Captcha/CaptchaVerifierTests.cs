using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pan.Server.Captcha;
using Pan.Server.Errors;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Captcha;

/// <summary>
/// CaptchaVerifier against a loopback server that speaks siteverify and the Enterprise assessments API. No database
/// is involved, so these run once, not per provider.
/// </summary>
public sealed class CaptchaVerifierTests : IAsyncLifetime
{
    private FakeRecaptchaServer google = null!;

    public async Task InitializeAsync() => google = await FakeRecaptchaServer.StartAsync();

    public async Task DisposeAsync() => await google.DisposeAsync();

    [Theory]
    [InlineData(CaptchaPlatform.Web)]
    [InlineData(CaptchaPlatform.Ios)]
    [InlineData(CaptchaPlatform.Android)]
    public async Task Classic_AcceptedToken_Passes_AndSendsSecretAndResponse(CaptchaPlatform platform)
    {
        using var services = Build(google.Settings());
        var token = google.Accept();

        Assert.True(await Verifier(services).VerifyAsync(platform, token, default));

        var request = Assert.Single(google.Received);
        Assert.Equal(("siteverify", FakeRecaptchaServer.Secret, token), (request.Api, request.Secret, request.Token));
    }

    [Fact]
    public async Task Classic_UnknownOrReusedToken_Fails()
    {
        using var services = Build(google.Settings());
        var verifier = Verifier(services);
        var token = google.Accept();

        Assert.False(await verifier.VerifyAsync(CaptchaPlatform.Web, "not-a-token-google-issued", default));
        Assert.True(await verifier.VerifyAsync(CaptchaPlatform.Web, token, default));
        Assert.False(await verifier.VerifyAsync(CaptchaPlatform.Web, token, default));
    }

    [Fact]
    public async Task Classic_WrongSecret_Fails()
    {
        var settings = google.Settings();
        settings["Pan:Captcha:Platforms:Web:Secret"] = "someone-elses-secret";
        using var services = Build(settings);

        Assert.False(await Verifier(services).VerifyAsync(CaptchaPlatform.Web, google.Accept(), default));
    }

    [Theory]
    [InlineData(0.9, true)]
    [InlineData(0.5, true)]
    [InlineData(0.3, false)]
    public async Task ClassicV3_ScoreIsHeldToMinScore(double score, bool passes)
    {
        using var services = Build(google.Settings());
        Assert.Equal(passes, await Verifier(services).VerifyAsync(CaptchaPlatform.Web, google.Accept(score: score), default));
    }

    [Theory]
    [InlineData(CaptchaPlatform.IosEnterprise)]
    [InlineData(CaptchaPlatform.AndroidEnterprise)]
    public async Task Enterprise_ValidTokenWithGoodScore_Passes_AndSendsTheAssessment(CaptchaPlatform platform)
    {
        using var services = Build(google.Settings());
        var token = google.Accept(score: 0.7);

        Assert.True(await Verifier(services).VerifyAsync(platform, token, default));

        var request = Assert.Single(google.Received);
        Assert.Equal(
            ("assessments", token, FakeRecaptchaServer.SiteKey, FakeRecaptchaServer.ProjectId, FakeRecaptchaServer.ApiKey),
            (request.Api, request.Token, request.SiteKey, request.ProjectId, request.ApiKey));
    }

    [Fact]
    public async Task Enterprise_InvalidReusedOrLowScoreToken_Fails()
    {
        var settings = google.Settings();
        settings["Pan:Captcha:MinScore"] = "0.6";
        using var services = Build(settings);
        var verifier = Verifier(services);
        var good = google.Accept(score: 0.8);

        Assert.False(await verifier.VerifyAsync(CaptchaPlatform.IosEnterprise, "forged", default));
        Assert.False(await verifier.VerifyAsync(CaptchaPlatform.IosEnterprise, google.Accept(score: 0.55), default));
        Assert.True(await verifier.VerifyAsync(CaptchaPlatform.IosEnterprise, good, default));
        Assert.False(await verifier.VerifyAsync(CaptchaPlatform.IosEnterprise, good, default));
    }

    [Fact]
    public async Task Enterprise_RejectedApiKey_IsDependencyUnavailable()
    {
        var settings = google.Settings();
        settings["Pan:Captcha:Platforms:AndroidEnterprise:ApiKey"] = "revoked-key";
        using var services = Build(settings);

        await Assert.ThrowsAsync<DependencyUnavailableException>(
            () => Verifier(services).VerifyAsync(CaptchaPlatform.AndroidEnterprise, google.Accept(), default));
    }

    [Theory]
    [InlineData(CaptchaPlatform.Web)]
    [InlineData(CaptchaPlatform.IosEnterprise)]
    public async Task GoogleUnreachable_IsDependencyUnavailable(CaptchaPlatform platform)
    {
        var closed = $"http://127.0.0.1:{ClosedPort()}";
        var settings = google.Settings();
        settings["Pan:Captcha:SiteVerifyUrl"] = closed + "/recaptcha/api/siteverify";
        settings["Pan:Captcha:EnterpriseBaseUrl"] = closed;
        using var services = Build(settings);

        await Assert.ThrowsAsync<DependencyUnavailableException>(() => Verifier(services).VerifyAsync(platform, google.Accept(), default));
    }

    [Theory]
    [InlineData(CaptchaPlatform.Android)]
    [InlineData(CaptchaPlatform.AndroidEnterprise)]
    public async Task GoogleFailing_IsDependencyUnavailable(CaptchaPlatform platform)
    {
        google.FailWith = HttpStatusCode.ServiceUnavailable;
        using var services = Build(google.Settings());

        await Assert.ThrowsAsync<DependencyUnavailableException>(() => Verifier(services).VerifyAsync(platform, google.Accept(), default));
    }

    [Fact]
    public async Task GoogleTooSlow_IsDependencyUnavailable()
    {
        google.Delay = TimeSpan.FromSeconds(30);
        var settings = google.Settings();
        settings["Pan:Captcha:TimeoutSeconds"] = "0.3";
        using var services = Build(settings);

        await Assert.ThrowsAsync<DependencyUnavailableException>(() => Verifier(services).VerifyAsync(CaptchaPlatform.Web, google.Accept(), default));
    }

    [Fact]
    public async Task EmptyTokenOrPlatformWithoutKeys_Fails_WithoutCallingGoogle()
    {
        var settings = google.Settings();
        settings.Remove("Pan:Captcha:Platforms:Ios:Secret");
        settings.Remove("Pan:Captcha:Platforms:Ios:SiteKey");
        using var services = Build(settings);
        var verifier = Verifier(services);

        Assert.False(await verifier.VerifyAsync(CaptchaPlatform.Web, "", default));
        Assert.False(await verifier.VerifyAsync(CaptchaPlatform.Web, new string('x', CaptchaVerifier.MaxTokenLength + 1), default));
        Assert.False(await verifier.VerifyAsync(CaptchaPlatform.Ios, google.Accept(), default));
        Assert.Empty(google.Received);
    }

    [Fact]
    public void Mode_DefaultsToOff_AndReadsTheSetting()
    {
        using var none = Build([]);
        using var risk = Build(google.Settings("risk"));

        Assert.Equal(CaptchaMode.Off, Verifier(none).Mode);
        Assert.Equal(CaptchaMode.Risk, Verifier(risk).Mode);
    }

    [Theory]
    [InlineData("always")]
    [InlineData("risk")]
    public void ModeOnWithoutKeys_FailsValidation_NamingTheSettings(string mode)
    {
        using var services = Build(new() { ["Pan:Captcha:Mode"] = mode });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<CaptchaOptions>>().Value);
        Assert.Contains("Pan:Captcha:Mode", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Pan:Captcha:Platforms:Web:Secret", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("always")]
    [InlineData("risk")]
    public void ModeOnWithEnterpriseKeysOnly_FailsValidation_NamingTheWebSecret(string mode)
    {
        // The calls that carry no platform (Register, VerifyMemberByPassword, AuthReset*) are checked with the Web keys:
        // without them each of those calls would be refused as a failed captcha.
        var settings = google.Settings(mode);
        foreach (var platform in new[] { "Web", "Ios", "Android" })
        {
            settings.Remove($"Pan:Captcha:Platforms:{platform}:Secret");
            settings.Remove($"Pan:Captcha:Platforms:{platform}:SiteKey");
        }

        using var services = Build(settings);

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<CaptchaOptions>>().Value);
        Assert.Contains("Pan:Captcha:Platforms:Web:Secret is not set", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MinScoreOutOfRange_FailsValidation_NamingTheSetting()
    {
        using var services = Build(new() { ["Pan:Captcha:MinScore"] = "1.5" });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<CaptchaOptions>>().Value);
        Assert.Contains("Pan:Captcha:MinScore", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PartialEnterpriseKeys_FailValidation_NamingThePlatform()
    {
        using var services = Build(new() { ["Pan:Captcha:Platforms:IosEnterprise:SiteKey"] = "site" });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<CaptchaOptions>>().Value);
        Assert.Contains("Pan:Captcha:Platforms:IosEnterprise needs SiteKey, ProjectId and ApiKey", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_WithCaptchaOnAndNoKeys_DoesNotStart()
    {
        await using var database = new SqliteTestDatabase();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(
            () => PanServer.StartAsync(database, new Dictionary<string, string?> { ["Pan:Captcha:Mode"] = "always" }));
        Assert.Contains("Pan:Captcha:Mode", ex.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddPanCaptcha();
        return services.BuildServiceProvider();
    }

    private static CaptchaVerifier Verifier(ServiceProvider services) => services.GetRequiredService<CaptchaVerifier>();

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
