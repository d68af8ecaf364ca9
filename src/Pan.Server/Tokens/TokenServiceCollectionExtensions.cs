namespace Pan.Server.Tokens;

public static class TokenServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TokenService"/> (per request), the shared signing-key cache, the expired-token purge and the
    /// erasure of a deleted member's sessions and tokens.
    /// </summary>
    public static IServiceCollection AddPanTokens(this IServiceCollection services)
    {
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SigningKeyRing>();
        services.AddSingleton<AccessTokenCache>();
        services.AddScoped<TokenService>();
        services.AddScoped<Deletion.IMemberDataEraser, TokenDataEraser>();
        services.AddHostedService<TokenJanitor>();
        return services;
    }
}
