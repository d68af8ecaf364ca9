using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Omniauth;

/// <summary>Start-up validation of <c>Pan:Omniauth</c>: a bad setting stops the server with a message naming it.</summary>
public sealed class OmniauthStartupTests
{
    [Theory]
    [InlineData("Pan:Omniauth:Facebook:GraphBaseUrl", "ftp://graph.example.com", "Pan:Omniauth:Facebook:GraphBaseUrl must be an absolute http(s) URL")]
    [InlineData("Pan:Omniauth:TimeoutSeconds", "0", "Pan:Omniauth:TimeoutSeconds must be between 0.05 and 60")]
    [InlineData("Pan:Omniauth:AccessTokenSeconds", "10", "Pan:Omniauth:AccessTokenSeconds must be between 60 and 2592000")]
    [InlineData("Pan:Omniauth:UnboundSignInsPerIpPerHour", "0", "Pan:Omniauth:UnboundSignInsPerIpPerHour must be between 1 and 1000000")]
    [InlineData("Pan:Omniauth:EmailExisted:CaptchaAfterPerIpPerHour", "-1", "Pan:Omniauth:EmailExisted:CaptchaAfterPerIpPerHour must be at least 0")]
    [InlineData("Pan:Omniauth:Twitter:Apps:com.example.app:ConsumerKey", "key-without-secret", "Pan:Omniauth:Twitter:Apps:com.example.app needs both ConsumerKey and ConsumerSecret")]
    [InlineData("Pan:Omniauth:LinkedIn:IntrospectionUrl", "not a url", "Pan:Omniauth:LinkedIn:IntrospectionUrl must be an absolute http(s) URL")]
    [InlineData("Pan:Omniauth:LinkedIn:ClientId", "86linkedin", "Pan:Omniauth:LinkedIn:ClientId and ClientSecret must be set together")]
    [InlineData("Pan:Omniauth:LinkedIn:ClientSecret", "secret-without-id", "Pan:Omniauth:LinkedIn:ClientId and ClientSecret must be set together")]
    [InlineData("Pan:Omniauth:Microsoft:JwksUrl", "ftp://keys.example.com", "Pan:Omniauth:Microsoft:JwksUrl must be an absolute http(s) URL")]
    [InlineData("Pan:Omniauth:Microsoft:ClientIds:0", " ", "Pan:Omniauth:Microsoft:ClientIds must not have an empty entry")]
    [InlineData("Pan:Omniauth:Microsoft:ClientIds:1", "", "Pan:Omniauth:Microsoft:ClientIds must not have an empty entry")]
    [InlineData("Pan:Omniauth:Microsoft:TenantIds:0", "contoso.onmicrosoft.com", "Pan:Omniauth:Microsoft:TenantIds entries must be tenant ids")]
    public async Task Server_WithABadOmniauthSetting_DoesNotStart(string key, string value, string expected)
        => await AssertDoesNotStartAsync(new Dictionary<string, string?> { [key] = value }, expected);

    [Fact]
    public async Task Server_WithMicrosoftTenantIdsButNoClientIds_DoesNotStart()
        => await AssertDoesNotStartAsync(
            new Dictionary<string, string?> { ["Pan:Omniauth:Microsoft:TenantIds:0"] = "72f988bf-86f1-41af-91ab-2d7cd011db47" },
            "Pan:Omniauth:Microsoft:TenantIds needs Pan:Omniauth:Microsoft:ClientIds");

    private static async Task AssertDoesNotStartAsync(Dictionary<string, string?> settings, string expected)
    {
        await using var database = new SqliteTestDatabase();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => PanServer.StartAsync(database, settings));

        Assert.Contains(ex.Failures, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Server_WithoutTheAppSettingsOfLinkedInAndMicrosoft_WarnsThatTheirTokensAreNotTiedToAnApp(bool configured)
    {
        await using var database = new SqliteTestDatabase();
        var logs = new WarningCapture();
        var settings = configured
            ? new Dictionary<string, string?>
            {
                ["Pan:Omniauth:LinkedIn:ClientId"] = "86linkedin",
                ["Pan:Omniauth:LinkedIn:ClientSecret"] = "linkedin-secret",
                ["Pan:Omniauth:Microsoft:ClientIds:0"] = "5f2b6c1e-8d3a-4e7b-9c0d-1a2b3c4d5e6f",
            }
            : [];

        await using var server = await PanServer.StartAsync(database, settings, configure: b => b.Logging.AddProvider(logs));

        var warnings = logs.Lines.ToList();
        Assert.Equal(!configured, warnings.Any(l => l.Contains("Pan:Omniauth:LinkedIn:ClientId is not set", StringComparison.Ordinal)));
        Assert.Equal(!configured, warnings.Any(l => l.Contains("Pan:Omniauth:Microsoft:ClientIds is not set", StringComparison.Ordinal)));
    }

    /// <summary>Collects the warnings of one server.</summary>
    private sealed class WarningCapture : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(WarningCapture owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Warning)
                {
                    owner.Lines.Enqueue(formatter(state, exception));
                }
            }
        }
    }
}
