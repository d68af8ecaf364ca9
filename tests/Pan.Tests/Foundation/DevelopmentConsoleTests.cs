using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// The console a developer reads after <c>dotnet run</c> (Development: the simple formatter, where the SMS codes are
/// printed) with the settings of appsettings.json and appsettings.Development.json. No database is opened.
/// </summary>
public sealed class DevelopmentConsoleTests
{
    [Fact]
    public async Task SimpleConsoleLine_HasASpaceBetweenTheTimestampAndTheLevel()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-dev-console-{Guid.NewGuid():N}.db");
        var settings = StartupProbe.Core($"Data Source={path}");
        // Why removed: Core picks the simple formatter itself; here appsettings.Development.json must pick it.
        settings.Remove("Logging:Console:FormatterName");
        await using var app = StartupProbe.Build("Development", settings, new Dictionary<string, string?>());
        var console = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        Assert.Equal(ConsoleFormatterNames.Simple, console.FormatterName);

        var simple = app.Services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
        using var line = new StringWriter();
        var entry = new LogEntry<string>(LogLevel.Information, "Pan.Server.Sms.ConsoleSmsProvider", new EventId(0), "probe", null, (s, _) => s);
        simple.Write(in entry, null, line);

        // e.g. "2026-11-25T10:49:14.700Z info: Pan.Server.Sms.ConsoleSmsProvider[0]"; before, "…700Zinfo: …".
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: Pan\.Server\.Sms\.ConsoleSmsProvider\[0\]", line.ToString());
    }
}
