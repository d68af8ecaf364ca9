using Microsoft.Extensions.Options;

namespace Pan.Server.Passkeys;

public static class PasskeyServiceCollectionExtensions
{
    /// <summary>
    /// Passkeys (WebAuthn) as a sign-in and a credential a member adds behind a step-up. Settings: <c>Pan:Passkeys:*</c>
    /// (<see cref="PasskeyOptions"/>), validated at start-up; off until the relying party is configured.
    /// </summary>
    public static IServiceCollection AddPanPasskeys(this IServiceCollection services)
    {
        services.AddOptions<PasskeyOptions>().BindConfiguration(PasskeyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasskeyOptions>, PasskeyOptionsValidator>();
        services.AddSingleton<PasskeyCeremonies>();
        services.AddScoped<PasskeyChallenges>();
        services.AddScoped<PasskeyStore>();
        services.AddScoped<Deletion.IMemberDataEraser>(sp => sp.GetRequiredService<PasskeyStore>());
        services.AddScoped<PasskeyRegistration>();
        services.AddScoped<PasskeySignIn>();
        return services;
    }
}
