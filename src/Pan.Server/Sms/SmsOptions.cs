using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Sms;

/// <summary><c>Pan:Sms:*</c>: which provider sends SMS and which countries may receive them.</summary>
public sealed class SmsOptions
{
    public const string Section = "Pan:Sms";

    /// <summary>
    /// The provider's name: <c>webhook</c>, or <c>console</c> (Development only, and the default there). Required in
    /// every other environment.
    /// </summary>
    public string? Provider { get; set; }

    /// <summary>
    /// Countries that may receive SMS, as calling codes ("886", "+852") or ISO regions ("TW"); a region is narrower
    /// than its calling code ("US" admits +1 numbers of the US, not of Canada). Empty: every country.
    /// </summary>
    [MaxLength(300, ErrorMessage = "Pan:Sms:AllowedCountries may list at most {1} entries.")]
    public List<string> AllowedCountries { get; set; } = [];
}

/// <summary><c>Pan:Sms:Limits:*</c>: the caps, counted over the last hour and the last 24 hours on every node.</summary>
public sealed class SmsLimitsOptions
{
    public const string Section = "Pan:Sms:Limits";

    [Range(1, 1_000_000, ErrorMessage = "Pan:Sms:Limits:PerPhonePerHour must be between {1} and {2}.")]
    public int PerPhonePerHour { get; set; } = 5;

    [Range(1, 1_000_000, ErrorMessage = "Pan:Sms:Limits:PerPhonePerDay must be between {1} and {2}.")]
    public int PerPhonePerDay { get; set; } = 10;

    [Range(1, 1_000_000, ErrorMessage = "Pan:Sms:Limits:PerIpPerHour must be between {1} and {2}.")]
    public int PerIpPerHour { get; set; } = 20;

    [Range(1, 1_000_000, ErrorMessage = "Pan:Sms:Limits:PerIpPerDay must be between {1} and {2}.")]
    public int PerIpPerDay { get; set; } = 100;

    [Range(1, 100_000_000, ErrorMessage = "Pan:Sms:Limits:PerCountryPerHour must be between {1} and {2}.")]
    public int PerCountryPerHour { get; set; } = 1000;

    [Range(1, 100_000_000, ErrorMessage = "Pan:Sms:Limits:PerCountryPerDay must be between {1} and {2}.")]
    public int PerCountryPerDay { get; set; } = 10000;
}

/// <summary><c>Pan:Sms:Risk:*</c>: when a send needs a captcha first (captcha mode "risk").</summary>
public sealed class SmsRiskOptions
{
    public const string Section = "Pan:Sms:Risk";

    /// <summary>Risky once the phone had this many sends in the last hour (so this many go out without a captcha).</summary>
    [Range(0, 1_000_000, ErrorMessage = "Pan:Sms:Risk:PhonePerHour must be between {1} and {2}.")]
    public int PhonePerHour { get; set; } = 2;

    /// <summary>Risky once the client address had this many sends in the last hour.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Pan:Sms:Risk:IpPerHour must be between {1} and {2}.")]
    public int IpPerHour { get; set; } = 5;

    /// <summary>Countries (calling codes or regions, as in AllowedCountries) whose every send is risky.</summary>
    [MaxLength(300, ErrorMessage = "Pan:Sms:Risk:HighRiskCountries may list at most {1} entries.")]
    public List<string> HighRiskCountries { get; set; } = [];
}

/// <summary><c>Pan:Sms:Webhook:*</c>: the generic HTTP provider.</summary>
public sealed class SmsWebhookOptions
{
    public const string Section = "Pan:Sms:Webhook";

    /// <summary>Absolute http(s) URL that receives <c>POST {"to":"+886…","text":"…"}</c>.</summary>
    public string? Url { get; set; }

    /// <summary>Sent verbatim as the Authorization header when set (for example "Bearer …"). Never logged.</summary>
    public string? AuthorizationHeader { get; set; }

    /// <summary>Seconds one attempt may take before it counts as failed.</summary>
    [Range(1, 300, ErrorMessage = "Pan:Sms:Webhook:TimeoutSeconds must be between {1} and {2}.")]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Further attempts after a 5xx, a timeout or a connection error (4xx is never retried).</summary>
    [Range(0, 10, ErrorMessage = "Pan:Sms:Webhook:Retries must be between {1} and {2}.")]
    public int Retries { get; set; } = 2;

    /// <summary>Wait before the first retry; doubled for each further one, with ±20 % jitter.</summary>
    [Range(0, 60_000, ErrorMessage = "Pan:Sms:Webhook:RetryDelayMilliseconds must be between {1} and {2}.")]
    public int RetryDelayMilliseconds { get; set; } = 500;
}
