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
        // start-up check of the settings is the one every ValidateOnStart registered.
        builder.Services.AddSingleton(SettingKeys.Of(builder.Services));
        RefusedSettings.GuardStartupCheck(builder.Services);
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

    /// <summary>
    /// Wraps the host's start-up check of the options (what every <c>ValidateOnStart</c> registers) so that refused
    /// settings leave it as one <see cref="RefusedSettingsException"/>. Why: the host logs a failed start with its
    /// exception ("Hosting failed to start"), and that line is the server's report of a refused setting; with this
    /// exception it is the type and the messages, without the stack trace under them.
    /// </summary>
    internal static void GuardStartupCheck(IServiceCollection services)
    {
        if (services.LastOrDefault(d => d.ServiceType == typeof(IStartupValidator)) is { ImplementationType: { } type } descriptor)
        {
            services.Replace(ServiceDescriptor.Describe(typeof(IStartupValidator),
                sp => new GuardedStartupValidator((IStartupValidator)ActivatorUtilities.CreateInstance(sp, type)), descriptor.Lifetime));
        }
    }

    private sealed class GuardedStartupValidator(IStartupValidator inner) : IStartupValidator
    {
        public void Validate()
        {
            try
            {
                inner.Validate();
            }
            catch (Exception ex) when (ex is not RefusedSettingsException && Failures(ex) is not null)
            {
                var refused = ex as OptionsValidationException ?? (OptionsValidationException)((AggregateException)ex).InnerExceptions[0];
                throw new RefusedSettingsException(refused.OptionsName, refused.OptionsType,
                    ex is AggregateException all ? all.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures) : refused.Failures);
            }
        }
    }
}

/// <summary>
/// Settings refused by the host's start-up check, every failure in one exception. An <see cref="OptionsValidationException"/>
/// like those it gathers, so whatever reports a refused setting reports these too.
/// </summary>
public sealed class RefusedSettingsException(string optionsName, Type optionsType, IEnumerable<string> failures)
    : OptionsValidationException(optionsName, optionsType, failures)
{
    /// <summary>The type and message only (see <see cref="SettingValueException"/>).</summary>
    public override string ToString() => $"{GetType().FullName}: {Message}";
}
