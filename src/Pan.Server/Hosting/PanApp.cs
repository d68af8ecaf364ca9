using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Pan.Server.Hosting;

/// <summary>Builds the Pan web host. Tests call this too, with their own configuration and services.</summary>
public static class PanApp
{
    /// <summary>The log category of a start-up failure Pan reports itself.</summary>
    public const string StartupCategory = "Pan.Startup";

    /// <param name="logStartupFailure">
    /// Whether a failure while the endpoints are mapped is logged (at Error, with its exception) before it is rethrown:
    /// the server's only report of it. False for a caller that reports the failure itself (an operator command prints a
    /// refused setting's message and exits 1; a stack trace from its log would only bury that message).
    /// </param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, bool logStartupFailure = true)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddPanServices();
        builder.Logging.AddSecretSafeFilters();
        configure?.Invoke(builder);
        // Why after every registration: the keys known are those of every options class the host binds, and the
        // logger factory replaced is the one logging registered.
        builder.Services.AddSingleton(SettingKeys.Of(builder.Services));
        RefusedSettings.CleanStartupRefusals(builder.Services);
        var app = builder.Build();
        try
        {
            // Why here, for the server and every operator command alike: a key no setting has would otherwise be
            // ignored, and the operator would believe it took effect.
            app.Services.GetRequiredService<SettingKeys>().Check(app.Configuration);
            app.MapPan();
        }
        catch (Exception ex)
        {
            // Why: a setting read while the endpoints are mapped (e.g. Pan:Guests:BasePath) fails here, before the host
            // starts, so neither the host's "Hosting failed to start" nor ASP.NET Core's start-up line (held off by
            // LogSecrecy) reports it. Failures once the host starts are the host's to log, so this is the only place.
            if (logStartupFailure)
            {
                var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(StartupCategory);
                if (RefusedSettings.Failures(ex) is { } failures)
                {
                    // A refused setting: one line naming it; a stack trace would only bury the key to fix.
                    logger.LogError("Pan failed to start: {Failures}", failures);
                }
                else
                {
                    logger.LogError(ex, "Pan failed to start");
                }
            }

            // Why dispose: it flushes the console logger's queue before the process dies of the exception.
            app.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return app;
    }
}

/// <summary>
/// Settings refused at start-up, reported as one line each time: the messages naming the settings, no stack trace.
/// </summary>
public static class RefusedSettings
{
    /// <summary>The refused settings' messages when <paramref name="ex"/> is a refusal (or refusals only), else null.</summary>
    public static string? Failures(Exception ex) => ex switch
    {
        OptionsValidationException refused => string.Join(" ", refused.Failures),
        AggregateException { InnerExceptions.Count: > 0 } all when all.InnerExceptions.All(e => e is OptionsValidationException) =>
            string.Join(" ", all.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures)),
        _ => null,
    };

    /// <summary>The category of the host's own lines, "Hosting failed to start" among them.</summary>
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <summary>
    /// Makes the host's "Hosting failed to start" line one line when what stopped it is refused settings: the message
    /// and the settings' messages, without the exception's stack trace under them. Why in the logger factory: the host
    /// logs the exception its start-up check threw, and that exception (an <see cref="OptionsValidationException"/>,
    /// which callers of <c>StartAsync</c> catch) must stay as it is; every other line, and every other failure, is
    /// logged unchanged.
    /// </summary>
    internal static void CleanStartupRefusals(IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new RefusalLoggerFactory(new LoggerFactory(
            sp.GetServices<ILoggerProvider>(), sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            sp.GetService<IOptions<LoggerFactoryOptions>>(), sp.GetService<IExternalScopeProvider>()))));

    private sealed class RefusalLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName)
        {
            var logger = inner.CreateLogger(categoryName);
            return categoryName == HostCategory ? new RefusalLogger(logger) : logger;
        }

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose() => inner.Dispose();
    }

    private sealed class RefusalLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is not null && Failures(exception) is { } failures)
            {
                inner.Log(logLevel, eventId, state, null, (s, _) => $"{formatter(s, null)}: {failures}");
            }
            else
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
