using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pan.Server.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Email;

/// <summary>Email and link settings are checked when the server starts; every refusal names its setting.</summary>
public sealed class EmailStartupTests : IAsyncDisposable
{
    private readonly SqliteTestDatabase database = new();

    [Theory]
    [InlineData("Production")]
    [InlineData("Testing")]
    public async Task ConsoleProvider_OutsideDevelopment_RefusesToStart(string environment)
    {
        var message = await StartupFailsAsync(environment, new() { ["Pan:Email:Provider"] = "console" });
        Assert.Contains("Pan:Email:Provider 'console'", message, StringComparison.Ordinal);
        Assert.Contains("Development", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoProvider_OutsideDevelopment_RefusesToStart()
    {
        var message = await StartupFailsAsync("Production", new() { ["Pan:Email:Provider"] = null });
        Assert.Contains("Pan:Email:Provider is required", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoProvider_InDevelopment_IsTheConsole()
    {
        await using var app = Build("Development", new() { ["Pan:Email:Provider"] = null, ["Pan:Links:PublicBaseUrl"] = "http://127.0.0.1:5080" });
        await app.StartAsync();
        Assert.IsType<ConsoleEmailTransport>(app.Services.GetRequiredService<IEmailTransport>());
        await app.StopAsync();
    }

    [Theory]
    [InlineData("Pan:Email:Provider", "sendgrid", "Pan:Email:Provider 'sendgrid' is unknown")]
    [InlineData("Pan:Email:Smtp:Host", "", "Pan:Email:Smtp:Host is required")]
    [InlineData("Pan:Email:Smtp:From", "", "Pan:Email:Smtp:From must be a sender address")]
    [InlineData("Pan:Email:Smtp:From", "Pan <not-an-address>", "Pan:Email:Smtp:From must be a sender address")]
    [InlineData("Pan:Email:Smtp:Port", "0", "Pan:Email:Smtp:Port must be between 1 and 65535")]
    [InlineData("Pan:Email:Smtp:Retries", "11", "Pan:Email:Smtp:Retries must be between 0 and 10")]
    [InlineData("Pan:Email:Smtp:Security", "Sometimes", "Pan:Email:Smtp:Security")]
    [InlineData("Pan:Email:Smtp:Username", "pan", "Pan:Email:Smtp:Username and Pan:Email:Smtp:Password must be set together")]
    [InlineData("Pan:Email:Limits:PerTargetPerHour", "0", "Pan:Email:Limits:PerTargetPerHour must be between")]
    [InlineData("Pan:Email:Outbox:PollMilliseconds", "0", "Pan:Email:Outbox:PollMilliseconds must be between 50 and 600000")]
    [InlineData("Pan:Email:Outbox:RetryDelaySeconds", "0", "Pan:Email:Outbox:RetryDelaySeconds must be between 1 and 3600")]
    [InlineData("Pan:Email:Outbox:MaxRetryDelaySeconds", "2", "Pan:Email:Outbox:MaxRetryDelaySeconds (2) must not be below Pan:Email:Outbox:RetryDelaySeconds (5)")]
    [InlineData("Pan:Links:PublicBaseUrl", "", "Pan:Links:PublicBaseUrl is required")]
    [InlineData("Pan:Links:PublicBaseUrl", "/relative", "Pan:Links:PublicBaseUrl '/relative' must be an absolute http(s) URL")]
    [InlineData("Pan:Links:PublicBaseUrl", "https://id.example.com/?x=1", "must be an absolute http(s) URL without user info, query or fragment")]
    [InlineData("Pan:Links:AllowedRedirectHosts:0", "https://app.example.com", "Pan:Links:AllowedRedirectHosts")]
    [InlineData("Pan:Links:AllowedRedirectHosts:0", "*", "Pan:Links:AllowedRedirectHosts")]
    public async Task InvalidSetting_RefusesToStart_NamingIt(string key, string value, string expected)
    {
        var message = await StartupFailsAsync("Production", new() { [key] = value });
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CredentialsInClearToARemoteRelay_RefuseToStart()
    {
        var message = await StartupFailsAsync("Production", new()
        {
            ["Pan:Email:Smtp:Host"] = "smtp.example.com",
            ["Pan:Email:Smtp:Security"] = "None",
            ["Pan:Email:Smtp:Username"] = "pan",
            ["Pan:Email:Smtp:Password"] = "secret",
        });
        Assert.Contains("Pan:Email:Smtp:Security is 'None' but credentials are set", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidSettings_Start()
    {
        await using var app = Build("Production", []);
        await app.StartAsync();
        Assert.IsType<SmtpEmailTransport>(app.Services.GetRequiredService<IEmailTransport>());
        await app.StopAsync();
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();

    private Task<string> StartupFailsAsync(string environment, Dictionary<string, string?> settings) =>
        StartupProbe.FailureAsync(() => Build(environment, settings));

    private WebApplication Build(string environment, Dictionary<string, string?> settings) =>
        StartupProbe.Build(environment, StartupProbe.Production(database.ConnectionString), settings);
}
