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
        // Why after every registration: the keys known are those of every options class the host binds.
        builder.Services.AddSingleton(SettingKeys.Of(builder.Services));
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
                app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(StartupCategory).LogError(ex, "Pan failed to start");
            }

            // Why dispose: it flushes the console logger's queue before the process dies of the exception.
            app.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return app;
    }
}
