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
    /// <summary>
    /// What any server needs to start besides the settings a test is about: SQLite at <paramref name="connectionString"/>,
    /// Kestrel on free ports, a Hashids salt and a key-encryption key (which Production requires), quiet logs.
    /// </summary>
    public static Dictionary<string, string?> Core(string connectionString) => new()
    {
        ["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:Grpc:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
        ["ConnectionStrings:Pan"] = connectionString,
        ["Pan:Database:Provider"] = "sqlite",
        ["Pan:Hashids:Salt"] = "pan-tests-salt",
        [Keys.TestKeys.Setting] = Keys.TestKeys.First,
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:Console:FormatterName"] = "simple",
    };

    /// <summary><see cref="Core"/> plus what a Production server also needs: an SMS provider, an SMTP relay and a public base URL.</summary>
    public static Dictionary<string, string?> Production(string connectionString)
    {
        var settings = Core(connectionString);
        settings["Pan:Sms:Provider"] = "webhook";
        settings["Pan:Sms:Webhook:Url"] = "https://sms.example/send";
        settings["Pan:Email:Provider"] = "smtp";
        settings["Pan:Email:Smtp:Host"] = "smtp.example.com";
        settings["Pan:Email:Smtp:From"] = "Pan <no-reply@example.com>";
        settings["Pan:Links:PublicBaseUrl"] = "https://id.example.com";
        return settings;
    }

    /// <summary>A server in <paramref name="environment"/> with <paramref name="defaults"/>, overridden by <paramref name="settings"/> (null removes one).</summary>
    public static WebApplication Build(
        string environment, IReadOnlyDictionary<string, string?> defaults, IReadOnlyDictionary<string, string?> settings,
        Action<WebApplicationBuilder>? configure = null)
    {
        var values = new Dictionary<string, string?>(defaults);
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        return PanApp.Build([$"--environment={environment}"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(values);
            configure?.Invoke(builder);
        });
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
