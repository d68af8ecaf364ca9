using Microsoft.Extensions.Options;
using Pan.Server.Lever;
using Pan.Server.Network;
using Pan.Server.Outbox;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

public static class SmsServiceCollectionExtensions
{
    /// <summary>
    /// Registers phone parsing, the SMS gate and its providers, the client-address rules (trusted proxies) and the
    /// internal API keys of the Lever services. Every setting is validated when the server starts.
    /// </summary>
    public static IServiceCollection AddPanSms(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<PhoneNumbers>();
        services.AddSingleton<SmsJanitor>();
        services.AddHostedService(sp => sp.GetRequiredService<SmsJanitor>());

        services.AddOptions<SmsOptions>().BindConfiguration(SmsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SmsLimitsOptions>().BindConfiguration(SmsLimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SmsRiskOptions>().BindConfiguration(SmsRiskOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SmsWebhookOptions>().BindConfiguration(SmsWebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<SmsOptions>, SmsOptionsDefaults>();
        services.AddSingleton<IValidateOptions<SmsOptions>, SmsOptionsValidator>();
        services.AddSingleton<IValidateOptions<SmsLimitsOptions>, SmsLimitsValidator>();
        services.AddSingleton<IValidateOptions<SmsRiskOptions>, SmsRiskValidator>();

        services.AddSmsProvider<ConsoleSmsProvider>(ConsoleSmsProvider.Name);
        services.AddSmsProvider<WebhookSmsProvider>(WebhookSmsProvider.Name);
        // Why: each attempt has its own timeout (Pan:Sms:Webhook:TimeoutSeconds); the client's own must not cut retries short.
        // Why RemoveAllLoggers: WebhookSmsProvider logs every failed attempt and giving up itself; the factory's logging
        // handlers opened a log scope and timed every send (one per phone flow) to write lines filtered out at Warning.
        services.AddHttpClient(WebhookSmsProvider.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan).RemoveAllLoggers();
        services.AddSingleton(sp => sp.GetRequiredKeyedService<ISmsProvider>(sp.GetRequiredService<IOptions<SmsOptions>>().Value.Provider));
        services.AddSingleton<SmsCountries>();
        services.AddScoped<SmsGate>();

        services.AddOptions<SmsOutboxOptions>().BindConfiguration(SmsOutboxOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SmsOutboxOptions>>(new OutboxOptionsValidator<SmsOutboxOptions>(SmsOutboxOptions.Section));
        services.AddSingleton<SmsOutboxSignal>();
        services.AddSingleton<SmsOutboxSender>();
        services.AddHostedService<SmsOutboxWorker>();
        services.AddScoped<SmsOutbox>();
        services.AddScoped<Deletion.IMemberDataEraser, SmsOutboxEraser>();

        services.AddPanNetwork(configuration);
        services.AddPanLever();
        return services;
    }

    /// <summary>Registers an <see cref="ISmsProvider"/> that <c>Pan:Sms:Provider=<paramref name="name"/></c> selects.</summary>
    public static IServiceCollection AddSmsProvider<TProvider>(this IServiceCollection services, string name)
        where TProvider : class, ISmsProvider
    {
        services.AddKeyedSingleton<ISmsProvider, TProvider>(name);
        services.AddSingleton(new SmsProviderName(name));
        return services;
    }
}
