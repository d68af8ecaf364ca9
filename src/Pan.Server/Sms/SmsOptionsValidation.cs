using Microsoft.Extensions.Options;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>
/// Start-up rules spanning several SMS settings. Fails closed: outside Development a provider must be named, the
/// console provider (which prints codes) is refused, and the webhook needs an absolute http(s) URL.
/// </summary>
internal sealed class SmsOptionsValidator(
    IHostEnvironment environment,
    IEnumerable<SmsProviderName> providers,
    IConfiguration configuration,
    PhoneNumbers phones) : IValidateOptions<SmsOptions>
{
    public ValidateOptionsResult Validate(string? name, SmsOptions options)
    {
        var failures = new List<string>();
        var known = providers.Select(p => p.Name).ToList();
        if (string.IsNullOrWhiteSpace(options.Provider))
        {
            failures.Add($"Pan:Sms:Provider is required in the '{environment.EnvironmentName}' environment (one of: {string.Join(", ", known.Where(p => p != ConsoleSmsProvider.Name))}).");
        }
        else if (!known.Contains(options.Provider))
        {
            failures.Add($"Pan:Sms:Provider '{options.Provider}' is unknown (one of: {string.Join(", ", known)}).");
        }
        else if (options.Provider == ConsoleSmsProvider.Name && !environment.IsDevelopment())
        {
            failures.Add($"Pan:Sms:Provider 'console' writes messages and their codes to the log and is allowed only in the Development environment, not in '{environment.EnvironmentName}'.");
        }
        else if (options.Provider == WebhookSmsProvider.Name
            && !(Uri.TryCreate(configuration[$"{SmsWebhookOptions.Section}:{nameof(SmsWebhookOptions.Url)}"], UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)))
        {
            failures.Add("Pan:Sms:Webhook:Url must be an absolute http(s) URL when Pan:Sms:Provider is 'webhook'.");
        }

        CountrySet.Parse(options.AllowedCountries, phones, out var invalid);
        if (invalid.Count > 0)
        {
            failures.Add($"Pan:Sms:AllowedCountries: '{string.Join("', '", invalid)}' is not a calling code (886, +852) or region (TW).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Each hourly cap must not exceed its daily cap.</summary>
internal sealed class SmsLimitsValidator : IValidateOptions<SmsLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, SmsLimitsOptions options)
    {
        var failures = new List<string>();
        Check(options.PerPhonePerHour, options.PerPhonePerDay, "PerPhone");
        Check(options.PerIpPerHour, options.PerIpPerDay, "PerIp");
        Check(options.PerCountryPerHour, options.PerCountryPerDay, "PerCountry");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(int hour, int day, string what)
        {
            if (hour > day)
            {
                failures.Add($"Pan:Sms:Limits:{what}PerHour ({hour}) must not exceed Pan:Sms:Limits:{what}PerDay ({day}).");
            }
        }
    }
}

/// <summary>High-risk countries must be calling codes or regions.</summary>
internal sealed class SmsRiskValidator(PhoneNumbers phones) : IValidateOptions<SmsRiskOptions>
{
    public ValidateOptionsResult Validate(string? name, SmsRiskOptions options)
    {
        CountrySet.Parse(options.HighRiskCountries, phones, out var invalid);
        return invalid.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Pan:Sms:Risk:HighRiskCountries: '{string.Join("', '", invalid)}' is not a calling code (886, +852) or region (TW).");
    }
}

/// <summary>Development without a provider setting uses the console provider; names are matched case-insensitively.</summary>
internal sealed class SmsOptionsDefaults(IHostEnvironment environment) : IPostConfigureOptions<SmsOptions>
{
    public void PostConfigure(string? name, SmsOptions options)
    {
        options.Provider = options.Provider?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(options.Provider) && environment.IsDevelopment())
        {
            options.Provider = ConsoleSmsProvider.Name;
        }
    }
}
