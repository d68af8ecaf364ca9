using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Pan.Server.Metrics;

public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Registers Pan's instruments (<see cref="PanMetrics"/>, always: with nothing listening they cost next to nothing)
    /// and the metrics listener, which opens only when <c>Pan:Metrics:Url</c> is set (validated at start-up).
    /// </summary>
    public static IServiceCollection AddPanMetrics(this IServiceCollection services)
    {
        services.AddPanMeter();
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        services.AddHostedService<MetricsListener>();
        return services;
    }

    /// <summary>Registers <see cref="PanMetrics"/> (and the meter factory) once; features that count call it too, so they can be hosted alone.</summary>
    public static IServiceCollection AddPanMeter(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<PanMetrics>();
        return services;
    }
}
