using Microsoft.Extensions.Options;
using Pan.Server.Outbox;

namespace Pan.Server.AppEvents;

public static class AppEventsServiceCollectionExtensions
{
    /// <summary>Registers the apps' event subscriptions, the event outbox, its sender on every node and its janitor; settings validated at start-up.</summary>
    public static IServiceCollection AddPanAppEvents(this IServiceCollection services)
    {
        services.AddOptions<AppEventsOptions>().BindConfiguration(AppEventsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<AppEventsOptions>>(new OutboxOptionsValidator<AppEventsOptions>(AppEventsOptions.Section));
        services.AddScoped<AppEventSubscriptions>();
        services.AddScoped<AppEventOutbox>();
        services.AddSingleton<AppEventSignal>();
        services.AddSingleton<AppEventSender>();
        services.AddHostedService<AppEventWorker>();
        services.AddSingleton<AppEventJanitor>();
        services.AddHostedService(sp => sp.GetRequiredService<AppEventJanitor>());
        // Why no redirects: a 3xx is the endpoint's failure, not a new place to send members' ids and a signature.
        // Why an infinite client timeout: each request has its own (Pan:AppEvents:TimeoutSeconds), which covers the
        // connection, the request and the answer's headers; the body is never read. Why no drain: an unread body is
        // dropped with its connection rather than read (up to 1 MB by default) to reuse it. Why RemoveAllLoggers: the
        // framework's lines hold the whole URL, query included, and the sender logs each delivery and failure itself.
        services.AddHttpClient(AppEventSender.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                MaxResponseDrainSize = 0,
                MaxResponseHeadersLength = 16,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .RemoveAllLoggers();
        return services;
    }
}
