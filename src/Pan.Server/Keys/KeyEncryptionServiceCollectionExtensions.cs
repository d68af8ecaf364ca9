using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace Pan.Server.Keys;

public static class KeyEncryptionServiceCollectionExtensions
{
    /// <summary>
    /// Registers <c>Pan:Keys</c>, the key wrapping used by the signing-key and OAuth key rings and Data Protection, and
    /// the start-up pass that checks and wraps stored keys. Call after the database (its migration must run first)
    /// and before the features whose start-up services load keys.
    /// </summary>
    public static IServiceCollection AddPanKeyEncryption(this IServiceCollection services)
    {
        services.AddOptions<KeyEncryptionOptions>().BindConfiguration(KeyEncryptionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<KeyEncryptionOptions>, KeyEncryptionOptionsValidator>();
        services.AddSingleton<KeyEncryption>();
        services.AddHostedService<KeyEncryptionStartup>();
        // Why only when enabled: without an encryptor Data Protection stores keys as it always did (and says so in the log).
        services.AddOptions<KeyManagementOptions>().Configure<KeyEncryption>((o, keys) =>
        {
            if (keys.Enabled)
            {
                o.XmlEncryptor = new DataProtectionKeyEncryptor(keys);
            }
        });
        return services;
    }
}
