using Microsoft.Extensions.Options;
using Pan.Server.Deletion;

namespace Pan.Server.Omniauth;

public static class OmniauthServiceCollectionExtensions
{
    /// <summary>The social-login REST API: options (validated at start-up), provider clients, tokens and rate counters.</summary>
    public static IServiceCollection AddPanOmniauth(this IServiceCollection services)
    {
        services.AddOptions<OmniauthOptions>().BindConfiguration(OmniauthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(ProviderHttp.ClientName, (sp, client) =>
                client.Timeout = sp.GetRequiredService<IOptions<OmniauthOptions>>().Value.Timeout)
            // Why: several providers take the token in the query string (their protocol); no request line may reach the logs.
            .RemoveAllLoggers();
        services.AddSingleton<ProviderHttp>();
        services.AddSingleton<GoogleIdTokens>();
        services.AddSingleton<SocialProviders>();
        services.AddSingleton<OmniauthResponses>();
        services.AddScoped<OmniauthTokens>();
        services.AddScoped<SocialSignIn>();
        services.AddScoped<EmailDirectory>();
        services.AddScoped<EmailExistedCaptcha>();
        services.AddScoped<RateCounters>();
        services.AddScoped<IMemberDataEraser, SocialIdentityEraser>();
        services.AddHostedService<RateCounterJanitor>();
        return services;
    }
}
