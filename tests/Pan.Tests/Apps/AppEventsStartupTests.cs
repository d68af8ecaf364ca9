using Pan.Tests.Infrastructure;

namespace Pan.Tests.Apps;

/// <summary>The event settings are checked when the server starts (no database is touched).</summary>
public sealed class AppEventsStartupTests : IAsyncDisposable
{
    private readonly SqliteTestDatabase database = new();

    [Theory]
    [InlineData("Pan:AppEvents:GiveUpAfterHours", "0")]
    [InlineData("Pan:AppEvents:GiveUpAfterHours", "721")]
    [InlineData("Pan:AppEvents:TimeoutSeconds", "0")]
    [InlineData("Pan:AppEvents:TimeoutSeconds", "61")]
    [InlineData("Pan:AppEvents:RotationOverlapHours", "-1")]
    [InlineData("Pan:AppEvents:RotationOverlapHours", "169")]
    [InlineData("Pan:AppEvents:RetryDelaySeconds", "0")]
    [InlineData("Pan:AppEvents:MaxRetryDelaySeconds", "3601")]
    public async Task AnOutOfRangeSetting_RefusesToStart_NamingIt(string setting, string value)
    {
        var message = await StartupProbe.FailureAsync(() => StartupProbe.Build("Testing", StartupProbe.Core(database.ConnectionString), new Dictionary<string, string?> { [setting] = value }));

        Assert.Contains(setting + " must be between", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMaxRetryDelayBelowTheFirst_RefusesToStart()
    {
        var message = await StartupProbe.FailureAsync(() => StartupProbe.Build("Testing", StartupProbe.Core(database.ConnectionString), new Dictionary<string, string?>
        {
            ["Pan:AppEvents:RetryDelaySeconds"] = "120", ["Pan:AppEvents:MaxRetryDelaySeconds"] = "60",
        }));

        Assert.Contains("Pan:AppEvents:MaxRetryDelaySeconds (60) must not be below Pan:AppEvents:RetryDelaySeconds (120)", message, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();
}
