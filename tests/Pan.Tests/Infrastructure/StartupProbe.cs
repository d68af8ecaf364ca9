using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Pan.Server.Hosting;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// A Pan server built from settings but not hosted by <see cref="PanServer"/>: for the start-up tests that check which
/// settings stop a server (in any environment, Production included) and with which message.
/// </summary>
public static class StartupProbe
{
    /// <summary>A server in <paramref name="environment"/> with <paramref name="defaults"/>, overridden by <paramref name="settings"/> (null removes one).</summary>
    public static WebApplication Build(string environment, IReadOnlyDictionary<string, string?> defaults, IReadOnlyDictionary<string, string?> settings)
    {
        var values = new Dictionary<string, string?>(defaults);
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        return PanApp.Build([$"--environment={environment}"], builder => builder.Configuration.AddInMemoryCollection(values));
    }

    /// <summary>Builds and starts the server, which must fail; returns every failure message (an options failure lists each).</summary>
    public static async Task<string> FailureAsync(Func<WebApplication> build)
    {
        WebApplication? app = null;
        try
        {
            var ex = await Record.ExceptionAsync(async () =>
            {
                app = build();
                await app.StartAsync();
            });
            Assert.NotNull(ex);
            var failures = ex is AggregateException all ? all.InnerExceptions : [ex];
            return string.Join(Environment.NewLine, failures.Select(f => f.Message));
        }
        finally
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }
}
