using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pan.Server.Sms;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Sms;

/// <summary>SMS, network and internal-key settings are checked when the server starts (no database is touched).</summary>
public sealed class SmsStartupTests : IAsyncDisposable
{
    private readonly SqliteTestDatabase database = new();

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    [InlineData("Testing")]
    public async Task ConsoleProvider_OutsideDevelopment_RefusesToStart(string environment)
    {
        var message = await StartupFailsAsync(environment, new() { ["Pan:Sms:Provider"] = "console" });

        Assert.Contains("Pan:Sms:Provider 'console'", message, StringComparison.Ordinal);
        Assert.Contains("Development", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Testing")]
    public async Task NoProvider_OutsideDevelopment_RefusesToStart(string environment)
    {
        var message = await StartupFailsAsync(environment, []);

        Assert.Contains("Pan:Sms:Provider is required", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoProvider_InDevelopment_IsTheConsole()
    {
        await using var app = Build("Development", []);
        await app.StartAsync();

        Assert.IsType<ConsoleSmsProvider>(app.Services.GetRequiredService<ISmsProvider>());
        await app.StopAsync();
    }

    [Theory]
    [InlineData(null, "Pan:Sms:Webhook:Url")]
    [InlineData("/relative/path", "Pan:Sms:Webhook:Url")]
    [InlineData("ftp://sms.example/", "Pan:Sms:Webhook:Url")]
    public async Task Webhook_WithoutAnAbsoluteHttpUrl_RefusesToStart(string? url, string named)
    {
        var message = await StartupFailsAsync("Production", new() { ["Pan:Sms:Provider"] = "webhook", ["Pan:Sms:Webhook:Url"] = url });

        Assert.Contains(named, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Pan:Sms:Provider", "twilio", "Pan:Sms:Provider 'twilio' is unknown")]
    [InlineData("Pan:Sms:AllowedCountries:0", "Atlantis", "Pan:Sms:AllowedCountries")]
    [InlineData("Pan:Sms:Risk:HighRiskCountries:0", "999", "Pan:Sms:Risk:HighRiskCountries")]
    [InlineData("Pan:Sms:Limits:PerPhonePerHour", "50", "Pan:Sms:Limits:PerPhonePerHour (50) must not exceed")]
    [InlineData("Pan:Sms:Limits:PerIpPerDay", "0", "Pan:Sms:Limits:PerIpPerDay must be between")]
    [InlineData("Pan:Sms:Webhook:TimeoutSeconds", "0", "Pan:Sms:Webhook:TimeoutSeconds must be between 1 and 300")]
    [InlineData("Pan:Network:TrustedProxies:0", "my-proxy.local", "Pan:Network:TrustedProxies")]
    [InlineData("Pan:Internal:ApiKeys:0", "short", "Pan:Internal:ApiKeys")]
    [InlineData("Pan:PhoneLookups:PerIpPerHour", "0", "Pan:PhoneLookups:PerIpPerHour must be between 1 and 100000000")]
    [InlineData("Pan:PhoneLookups:CaptchaAfterPerIpPerHour", "-1", "Pan:PhoneLookups:CaptchaAfterPerIpPerHour must be between 0 and 100000000")]
    public async Task InvalidSetting_RefusesToStart_NamingIt(string key, string value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Pan:Sms:Provider"] = "webhook",
            ["Pan:Sms:Webhook:Url"] = "https://sms.example/send",
            [key] = value,
        };

        var failure = await StartupFailsAsync("Production", settings);

        Assert.Contains(message, failure, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();

    /// <summary>Asserts the server refuses to start because of its settings; returns every validation message.</summary>
    private Task<string> StartupFailsAsync(string environment, Dictionary<string, string?> settings) =>
        StartupProbe.FailureAsync(() => Build(environment, settings));

    private WebApplication Build(string environment, Dictionary<string, string?> settings) =>
        StartupProbe.Build(environment, StartupProbe.Core(database.ConnectionString), settings);
}
