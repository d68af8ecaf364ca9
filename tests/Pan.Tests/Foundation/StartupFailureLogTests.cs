using Microsoft.Extensions.Logging;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// A server that cannot start says why in its log, once, at Error, whatever stopped it (a setting checked at start-up,
/// a setting read while the endpoints are mapped, a database that cannot be reached), and never with the connection
/// string. Why: ASP.NET Core's own start-up error line is in a category Pan holds off (LogSecrecy).
/// </summary>
public sealed class StartupFailureLogTests
{
    private const string Password = "pg-startup-secret-4b1e7d";

    [Theory]
    [InlineData("Pan:Codes:CodeMinutes", "99", "Pan:Codes:CodeMinutes must be 1–10")]
    [InlineData("Pan:Guests:BasePath", "no-slash/", "Pan:Guests:BasePath must be empty or like /apinode")]
    public async Task BadSetting_StopsTheServer_WithOneErrorLineNamingIt(string key, string value, string expected)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-startup-log-{Guid.NewGuid():N}.db");
        var logs = new LogCapture();
        await StartupProbe.FailureAsync(() => StartupProbe.Build(
            "Production", StartupProbe.Production($"Data Source={path}"), new Dictionary<string, string?> { [key] = value },
            builder => builder.Logging.AddProvider(logs)));

        AssertReportedOnce(logs, expected);
    }

    [Fact]
    public async Task UnreachableDatabase_StopsTheServer_WithOneErrorLine_WithoutThePassword()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Pan:Database:Provider"] = "postgres",
            // Why port 9 (discard): nothing listens there, so the connection is refused at once.
            ["ConnectionStrings:Pan"] = $"Host=127.0.0.1;Port=9;Username=pan;Password={Password};Database=pan;Timeout=3",
        };
        var logs = new LogCapture();
        await StartupProbe.FailureAsync(() => StartupProbe.Build(
            "Production", StartupProbe.Production("Data Source=unused.db"), settings, builder => builder.Logging.AddProvider(logs)));

        AssertReportedOnce(logs, "Failed to connect to 127.0.0.1:9");
        Assert.DoesNotContain(logs.Lines, l => l.Contains(Password, StringComparison.Ordinal));
    }

    /// <summary>Exactly one Error line holds the failure (EF Core may add its own line about the connection; it is not the failure).</summary>
    private static void AssertReportedOnce(LogCapture logs, string failure)
    {
        var lines = logs.Lines.Where(l => l.Contains(failure, StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, $"{lines.Count} lines report [{failure}]:\n" + string.Join("\n", lines));
        Assert.Contains(" Error: ", lines[0], StringComparison.Ordinal);
    }
}
