namespace Pan.Server.Tokens;

public static class TokenServiceCollectionExtensions
{
    /// <summary>Registers <see cref="TokenService"/> (per request), the shared signing-key cache and the expired-token purge.</summary>
    public static IServiceCollection AddPanTokens(this IServiceCollection services)
    {
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SigningKeyRing>();
        services.AddSingleton<AccessTokenCache>();
        services.AddScoped<TokenService>();
        services.AddHostedService<TokenJanitor>();
        return services;
    }
}
