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
        services.AddSingleton<MicrosoftAccounts>();
        services.AddSingleton<SocialProviders>();
        services.AddSingleton<OmniauthResponses>();
        services.AddScoped<OmniauthTokens>();
        services.AddScoped<SocialSignIn>();
        services.AddScoped<SocialIdentityStore>();
        services.AddScoped<UnboundSignInLimit>();
        services.AddScoped<EmailDirectory>();
        services.AddScoped<EmailExistedCaptcha>();
        services.AddScoped<IMemberDataEraser, SocialIdentityEraser>();
        services.AddHostedService<ProviderAppNotice>();
        return services;
    }

    /// <summary>Says at start-up which providers accept tokens issued to any app, so an operator cannot miss it.</summary>
    private sealed class ProviderAppNotice(IOptions<OmniauthOptions> options, ILogger<SocialProviders> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var value = options.Value;
            if (!value.LinkedIn.TiedToClient)
            {
                logger.LogWarning("Pan:Omniauth:LinkedIn:ClientId is not set: LinkedIn tokens are not tied to our app, so a token another app obtained for a user signs in as that user");
            }

            if (value.Microsoft.ClientIds.Count == 0)
            {
                logger.LogWarning("Pan:Omniauth:Microsoft:ClientIds is not set: Microsoft tokens are not tied to our apps, so a token another app obtained for a user signs in as that user");
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
