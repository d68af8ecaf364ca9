using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pan.Server.Hosting;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// The framework categories whose lines carry secrets (<see cref="LogSecrecy.Floors"/>) stay at their floor in
/// Production whatever the configuration asks, for every provider and for the console by name; a floor never makes a
/// category louder than the configuration asks. No database is opened.
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

    [Fact]
    public void ProductionDefaults_WriteNoLinePerRequest()
    {
        // The shipped appsettings.json alone (the probe's quiet default removed): Pan's own lines at Information, none
        // of the per-request ones (routing's two, the hosting pair, Pan's access log).
        using var probe = Probe(new() { ["Logging:LogLevel:Default"] = null });
        Assert.True(probe.Logs.CreateLogger("Pan.Server.Sms.SmsGate").IsEnabled(LogLevel.Information));
        Assert.False(probe.Logs.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware").IsEnabled(LogLevel.Information));
        Assert.False(probe.Logs.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Information));
        Assert.False(probe.Logs.CreateLogger("Pan.Requests").IsEnabled(LogLevel.Information));
    }

    [Theory]
    [InlineData("Logging:LogLevel:")]
    [InlineData("Logging:Console:LogLevel:")]
    public void Configuration_StricterThanAFloor_Stands(string prefix)
    {
        // appsettings.json's own setting: at Information, routing would write two lines per request.
        using var probe = Probe(new()
        {
            ["Logging:LogLevel:Default"] = "Information",
            [prefix + "Microsoft.AspNetCore"] = "Warning",
        });
        var routing = probe.Logs.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware");
        Assert.False(routing.IsEnabled(LogLevel.Information));
        Assert.True(routing.IsEnabled(LogLevel.Warning));
        Assert.False(probe.Logs.CreateLogger("OpenIddict.Server.OpenIddictServerDispatcher").IsEnabled(LogLevel.Information));
        Assert.True(probe.Logs.CreateLogger("Pan.Server.Probe").IsEnabled(LogLevel.Information));
    }

    [Theory]
    [InlineData("Logging:LogLevel:")]
    [InlineData("Logging:Console:LogLevel:")]
    public void Configuration_ForACategoryBelowAFloor_CannotLowerIt(string prefix)
    {
        using var probe = Probe(new()
        {
            [prefix + "Microsoft.AspNetCore.Routing.EndpointMiddleware"] = "Trace",
            [prefix + "OpenIddict.Server"] = "Debug",
            [prefix + "Microsoft.AspNetCore.Hosting.Diagnostics.Requests"] = "Information",
        });
        Assert.False(probe.Logs.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware").IsEnabled(LogLevel.Debug));
        Assert.True(probe.Logs.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware").IsEnabled(LogLevel.Information));
        Assert.False(probe.Logs.CreateLogger("OpenIddict.Server.OpenIddictServerDispatcher").IsEnabled(LogLevel.Information));
        Assert.False(probe.Logs.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics.Requests").IsEnabled(LogLevel.Critical));
    }

    [Theory]
    [InlineData("Logging:LogLevel:")]
    [InlineData("Logging:Console:LogLevel:")]
    public void AWildcardRuleLongerThanAFloor_CannotLowerIt(string prefix)
    {
        // Why this pattern: it matches routing's middleware and is longer than the floor's category, so it is the rule
        // Microsoft.Extensions.Logging picks for it.
        using var probe = Probe(new() { [prefix + "Microsoft.AspNetCore.*.EndpointMiddleware"] = "Trace" });
        var routing = probe.Logs.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware");
        Assert.False(routing.IsEnabled(LogLevel.Debug));
        Assert.True(routing.IsEnabled(LogLevel.Information));
        Assert.True(probe.Logs.CreateLogger("Microsoft.AspNetCore.Mvc.EndpointMiddleware").IsEnabled(LogLevel.Trace));
    }

    private static ProbeApp Probe(Dictionary<string, string?> settings)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-log-floors-{Guid.NewGuid():N}.db");
        return new ProbeApp(StartupProbe.Build("Production", StartupProbe.Production($"Data Source={path}"), settings));
    }

    /// <summary>A built, never started server, for its logger factory.</summary>
    private sealed class ProbeApp(WebApplication app) : IDisposable
    {
        public ILoggerFactory Logs => app.Services.GetRequiredService<ILoggerFactory>();

        public void Dispose() => ((IDisposable)app).Dispose();
    }
}
