using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pan.Server.BruteForce;
using Pan.Server.Email;

namespace Pan.Server.Credentials;

public static class CredentialServiceCollectionExtensions
{
    /// <summary>
    /// Passwords and security questions (hashing, policy, storage, the credential RPCs) and the per-member failure
    /// counter. Settings: <c>Pan:Passwords:Argon2:*</c> (<see cref="Argon2Options"/>) and <c>Pan:BruteForce:*</c>
    /// (<see cref="BruteForceOptions"/>), both validated at start-up.
    /// </summary>
    public static IServiceCollection AddPanCredentials(this IServiceCollection services)
    {
        services.AddOptions<Argon2Options>().BindConfiguration(Argon2Options.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<Argon2Options>, Argon2OptionsValidator>();
        services.AddOptions<BruteForceOptions>().BindConfiguration(BruteForceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<PasswordPolicy>();
        services.AddScoped<Cli.Import.ILegacyPasswordWriter, LegacyPasswordWriter>();
        services.AddScoped<FailureCounter>();
        services.AddScoped<CredentialStore>();
        services.AddScoped<CredentialMembers>();
        services.AddScoped<CredentialChanges>();
        services.AddScoped<CredentialSettings>();
        services.AddScoped<PasswordVerification>();
        services.AddScoped<Deletion.IMemberDataEraser, CredentialEraser>();
        services.AddScoped<IPasswordChangeRevoker, StepUpTokenRevoker>();
        // Why: UpdateCredential calls the email feature's seam; its own registration (if any) wins.
        services.TryAddScoped<EmailChanges>();
        return services;
    }
}
