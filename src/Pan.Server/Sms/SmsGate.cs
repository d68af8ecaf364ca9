using System.Net;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>Why an SMS was not sent. A blocked send never reaches a provider.</summary>
public enum SmsBlockReason
{
    None,
    CountryNotAllowed,
    PhoneHourlyCap,
    PhoneDailyCap,
    IpHourlyCap,
    IpDailyCap,
    CountryHourlyCap,
    CountryDailyCap,
}

/// <summary>What an SMS is for (kept with the send log; caps count every purpose).</summary>
public enum SmsPurpose
{
    Register,
    Login,
    ValidatePhone,
    Verify,
    Reset,
    Activation,
    Internal,
}

public sealed record SmsSendResult(bool Sent, SmsBlockReason Blocked)
{
    public static SmsSendResult Ok { get; } = new(true, SmsBlockReason.None);
}

/// <summary>
/// The one door to SMS: checks the country allow-list and the per-phone / per-IP / per-country caps (counted in the
/// database, so every node sees the same numbers), then hands the text to the configured provider.
/// A provider that still fails after its retries throws <see cref="Errors.DependencyUnavailableException"/>.
/// </summary>
public sealed class SmsGate
{
    public Task<SmsSendResult> SendAsync(PhoneNumber to, string text, SmsPurpose purpose, IPAddress? clientIp, CancellationToken cancellationToken) =>
        throw new NotImplementedException("SMS helper");

    /// <summary>True when a send to <paramref name="to"/> from <paramref name="clientIp"/> trips the risk rules (captcha mode 'risk').</summary>
    public Task<bool> IsRiskyAsync(PhoneNumber to, IPAddress? clientIp, CancellationToken cancellationToken) =>
        throw new NotImplementedException("SMS helper");
}
