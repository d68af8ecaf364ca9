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
        services.AddMetrics();
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        services.AddSingleton<PanMetrics>();
        services.AddHostedService<MetricsListener>();
        return services;
    }
}
