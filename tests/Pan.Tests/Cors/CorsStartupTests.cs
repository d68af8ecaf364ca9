using Microsoft.AspNetCore.Builder;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Cors;

/// <summary><c>Pan:Cors</c> is checked when the server starts: exact http(s) origins only, never a wildcard.</summary>
public sealed class CorsStartupTests : IAsyncDisposable
{
    private readonly SqliteTestDatabase database = new();

    [Theory]
    [InlineData("*", "Pan:Cors:AllowedOrigins:1 '*' is refused")]
    [InlineData("https://*.forum.example", "Pan:Cors:AllowedOrigins:1 'https://*.forum.example' is refused")]
    [InlineData("https://forum.example/app", "Pan:Cors:AllowedOrigins:1 'https://forum.example/app' must be an origin")]
    [InlineData("https://forum.example?x=1", "Pan:Cors:AllowedOrigins:1 'https://forum.example?x=1' must be an origin")]
    [InlineData("https://forum.example#top", "Pan:Cors:AllowedOrigins:1 'https://forum.example#top' must be an origin")]
    [InlineData("https://me@forum.example", "Pan:Cors:AllowedOrigins:1 'https://me@forum.example' must be an origin")]
    [InlineData("ftp://forum.example", "Pan:Cors:AllowedOrigins:1 'ftp://forum.example' must be an origin")]
    [InlineData("chrome-extension://abcdef", "Pan:Cors:AllowedOrigins:1 'chrome-extension://abcdef' must be an origin")]
    [InlineData("forum.example", "Pan:Cors:AllowedOrigins:1 'forum.example' must be an origin")]
    [InlineData("null", "Pan:Cors:AllowedOrigins:1 'null' must be an origin")]
    [InlineData(" ", "Pan:Cors:AllowedOrigins:1 is empty")]
    [InlineData("https://forum.exa\u200Dmple", "Pan:Cors:AllowedOrigins:1 'https://forum.exa\u200Dmple' must be an origin")]
    public async Task AnOriginThatIsNotExact_RefusesToStart_NamingTheSettingAndIndex(string origin, string expected)
    {
        var message = await StartupFailsAsync(new()
        {
            ["Pan:Cors:AllowedOrigins:0"] = "https://shop.example",
            ["Pan:Cors:AllowedOrigins:1"] = origin,
        });

        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain("AllowedOrigins:0", message, StringComparison.Ordinal);
    }

    /// <summary>Plain http only for a loopback host (a developer's machine), as for an app's event URL.</summary>
    [Theory]
    [InlineData("http://forum.example")]
    [InlineData("http://forum.example:8080")]
    [InlineData("http://10.0.0.5:5173")]
    [InlineData("http://localhost.forum.example")]
    [InlineData("http://loopback")]
    [InlineData("http://[::2]")]
    public async Task APlainHttpOriginOffLoopback_RefusesToStart_NamingTheSettingAndIndex(string origin)
    {
        var message = await StartupFailsAsync(new()
        {
            ["Pan:Cors:AllowedOrigins:0"] = "http://127.0.0.2:5173",
            ["Pan:Cors:AllowedOrigins:1"] = origin,
        });

        Assert.Contains($"Pan:Cors:AllowedOrigins:1 '{origin}' must be https", message, StringComparison.Ordinal);
        Assert.DoesNotContain("AllowedOrigins:0", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheWildcard_IsRefused_SayingWhy()
    {
        var message = await StartupFailsAsync(new() { ["Pan:Cors:AllowedOrigins:0"] = "*" });
        Assert.Contains("list each browser app's origin", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("86401")]
    public async Task AMaxAgeOutOfRange_RefusesToStart(string value)
    {
        var message = await StartupFailsAsync(new() { ["Pan:Cors:MaxAgeSeconds"] = value });
        Assert.Contains("Pan:Cors:MaxAgeSeconds must be between 0 and 86400", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExactOrigins_Start()
    {
        await using var app = StartupProbe.Build("Production", StartupProbe.Production(database.ConnectionString), new Dictionary<string, string?>
        {
            ["Pan:Cors:AllowedOrigins:0"] = "https://forum.example",
            ["Pan:Cors:AllowedOrigins:1"] = "HTTPS://Shop.Example:443/",
            ["Pan:Cors:AllowedOrigins:2"] = "http://localhost:5173",
            ["Pan:Cors:AllowedOrigins:3"] = "http://[::1]:8080",
            ["Pan:Cors:AllowedOrigins:4"] = "https://bücher.example",
            ["Pan:Cors:AllowedOrigins:5"] = "http://127.0.0.2:3000",
            ["Pan:Cors:AllowedOrigins:6"] = "HTTP://LocalHost:5174",
            ["Pan:Cors:MaxAgeSeconds"] = "0",
        });
        await app.StartAsync();
        await app.StopAsync();
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();

    private Task<string> StartupFailsAsync(Dictionary<string, string?> settings) =>
        StartupProbe.FailureAsync(() => Build(settings));

    private WebApplication Build(Dictionary<string, string?> settings) =>
        StartupProbe.Build("Production", StartupProbe.Production(database.ConnectionString), settings);
}
