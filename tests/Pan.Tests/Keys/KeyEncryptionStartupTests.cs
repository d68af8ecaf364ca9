using Microsoft.AspNetCore.Builder;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Keys;

/// <summary><c>Pan:Keys</c> is checked when the server starts: required in Production, and only base64 of 32 bytes.</summary>
public sealed class KeyEncryptionStartupTests : IAsyncDisposable
{
    private readonly SqliteTestDatabase database = new();

    [Fact]
    public async Task Production_WithoutTheKey_RefusesToStart_SayingHowToMakeOne()
    {
        var message = await StartupFailsAsync("Production", new() { [TestKeys.Setting] = null });
        Assert.Contains("Pan:Keys:EncryptionKey is required in Production", message, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Pan:Keys:EncryptionKey", "not base64!", "Pan:Keys:EncryptionKey must be the base64 of exactly 32 bytes")]
    [InlineData("Pan:Keys:EncryptionKey", "AAECAwQFBgcICQoLDA0ODw==", "Pan:Keys:EncryptionKey must be the base64 of exactly 32 bytes")]
    [InlineData("Pan:Keys:PreviousEncryptionKeys:0", "AAEC", "Pan:Keys:PreviousEncryptionKeys:0 must be the base64 of exactly 32 bytes")]
    [InlineData("Pan:Keys:NextEncryptionKey", "AAEC", "Pan:Keys:NextEncryptionKey must be the base64 of exactly 32 bytes")]
    public async Task AMalformedKey_RefusesToStart_NamingTheSetting(string key, string value, string expected)
    {
        var message = await StartupFailsAsync("Production", new() { [key] = value });
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANextKeyWithoutTheCurrentKey_RefusesToStart_NamingBothSettings()
    {
        var message = await StartupFailsAsync("Development", new() { [TestKeys.Setting] = null, ["Pan:Keys:NextEncryptionKey"] = TestKeys.Second });
        Assert.Contains("Pan:Keys:NextEncryptionKey is set without Pan:Keys:EncryptionKey", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANextKeyEqualToTheCurrentKey_RefusesToStart()
    {
        var message = await StartupFailsAsync("Production", new() { [TestKeys.Setting] = TestKeys.Second, ["Pan:Keys:NextEncryptionKey"] = TestKeys.Second });
        Assert.Contains("Pan:Keys:NextEncryptionKey is the same key as Pan:Keys:EncryptionKey", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_WithTheKey_Starts()
    {
        await using var app = Build("Production", []);
        await app.StartAsync();
        await app.StopAsync();
    }

    [Fact]
    public async Task Development_WithoutTheKey_Starts()
    {
        await using var app = Build("Development", new() { [TestKeys.Setting] = null, ["Pan:Links:PublicBaseUrl"] = "http://127.0.0.1:5080" });
        await app.StartAsync();
        await app.StopAsync();
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();

    private Task<string> StartupFailsAsync(string environment, Dictionary<string, string?> settings) =>
        StartupProbe.FailureAsync(() => Build(environment, settings));

    private WebApplication Build(string environment, Dictionary<string, string?> settings) =>
        StartupProbe.Build(environment, StartupProbe.Production(database.ConnectionString), settings);
}
