using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pan.Server.Hosting;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// The framework categories whose lines carry secrets (<see cref="LogSecrecy.Floors"/>) stay at their floor in
/// Production whatever the configuration asks, for every provider and for the console by name. No database is opened.
/// </summary>
public sealed class LogSecrecyStartupTests
{
    [Theory]
    [InlineData("Logging:LogLevel:")]
    [InlineData("Logging:Console:LogLevel:")]
    public async Task Configuration_AtTrace_CannotLowerTheFloorOfASecretCarryingCategory(string prefix)
    {
        var settings = new Dictionary<string, string?> { [prefix + "Default"] = "Trace" };
        foreach (var (category, _) in LogSecrecy.Floors)
        {
            settings[prefix + category] = "Trace";
        }

        var path = Path.Combine(Path.GetTempPath(), $"pan-log-floors-{Guid.NewGuid():N}.db");
        await using var app = StartupProbe.Build("Production", StartupProbe.Production($"Data Source={path}"), settings);
        var logs = app.Services.GetRequiredService<ILoggerFactory>();

        // The configuration took: a category without a floor (nor a level of its own in appsettings.json) logs at Trace.
        Assert.True(logs.CreateLogger("Pan.Server.Probe").IsEnabled(LogLevel.Trace));
        foreach (var (category, floor) in LogSecrecy.Floors)
        {
            var logger = logs.CreateLogger(category + ".Probe");
            Assert.False(logger.IsEnabled(floor == LogLevel.None ? LogLevel.Critical : floor - 1), $"{category} below {floor}");
            Assert.Equal(floor != LogLevel.None, logger.IsEnabled(floor == LogLevel.None ? LogLevel.Critical : floor));
        }
    }
}
