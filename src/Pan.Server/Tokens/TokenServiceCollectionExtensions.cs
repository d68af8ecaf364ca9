namespace Pan.Server.Tokens;

public static class TokenServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TokenService"/> (per request), the shared signing-key cache, the expired-token purge and the
    /// erasure of a deleted member's sessions and tokens. The request accessor lets a session record the device it is
    /// opened from (<see cref="SessionDevice"/>) without every sign-in flow passing its request down.
    /// </summary>
    public static IServiceCollection AddPanTokens(this IServiceCollection services)
    {
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SigningKeyRing>();
        services.AddSingleton<AccessTokenCache>();
        services.AddHttpContextAccessor();
        services.AddScoped<TokenService>();
        services.AddScoped<Deletion.IMemberDataEraser, TokenDataEraser>();
        services.AddHostedService<TokenJanitor>();
        return services;
    }
}
