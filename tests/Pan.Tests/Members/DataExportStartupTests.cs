using Pan.Tests.Infrastructure;

namespace Pan.Tests.Members;

/// <summary>The export's rate setting is checked when the server starts (no database is touched).</summary>
public sealed class DataExportStartupTests : IAsyncDisposable
{
    private readonly SqliteTestDatabase database = new();

    [Theory]
    [InlineData("0")]
    [InlineData("1441")]
    [InlineData("-5")]
    public async Task AnOutOfRangeRate_RefusesToStart_NamingIt(string value)
    {
        var message = await StartupProbe.FailureAsync(() => StartupProbe.Build("Testing", StartupProbe.Core(database.ConnectionString),
            new Dictionary<string, string?> { ["Pan:Export:MinutesBetweenExports"] = value }));

        Assert.Contains("Pan:Export:MinutesBetweenExports must be 1–1440", message, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();
}
