using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Guests;

/// <summary><c>Pan:Guests:*</c>: the apinode user endpoints (guest accounts).</summary>
public sealed class GuestOptions
{
    public const string Section = "Pan:Guests";

    /// <summary>Path prefix in front of <c>/admin/user/…</c> (e.g. <c>/apinode</c>); empty by default.</summary>
    [RegularExpression("^(/[A-Za-z0-9._~-]+)*$", ErrorMessage = "Pan:Guests:BasePath must be empty or like /apinode (no trailing slash).")]
    public string BasePath { get; set; } = string.Empty;

    /// <summary>Lifetime of a createTemp token, in days (apinode: 180).</summary>
    [Range(1, 3650, ErrorMessage = "Pan:Guests:TempTokenDays must be between 1 and 3650.")]
    public int TempTokenDays { get; set; } = 180;

    /// <summary>Lifetime of a login token, in days (apinode: 60).</summary>
    [Range(1, 365, ErrorMessage = "Pan:Guests:LoginTokenDays must be between 1 and 365.")]
    public int LoginTokenDays { get; set; } = 60;

    /// <summary>Lifetime of a mailed activation link, in minutes.</summary>
    [Range(10, 10080, ErrorMessage = "Pan:Guests:EmailLinkMinutes must be between 10 and 10080.")]
    public int EmailLinkMinutes { get; set; } = 60;

    /// <summary>Lifetime of a texted activation code, in minutes (at most 10).</summary>
    [Range(1, 10, ErrorMessage = "Pan:Guests:SmsCodeMinutes must be between 1 and 10.")]
    public int SmsCodeMinutes { get; set; } = 10;

    /// <summary>Wrong tries after which an SMS activation code is dead (at most 5).</summary>
    [Range(1, 5, ErrorMessage = "Pan:Guests:MaxCodeAttempts must be between 1 and 5.")]
    public int MaxCodeAttempts { get; set; } = 5;

    /// <summary>
    /// How long, in seconds, a submitted activation code or link whose mail or text is still being sent (made, not yet
    /// made live) waits for the send to finish before it is judged: accepted once the send succeeded, refused (2) if it
    /// failed or has not finished by then.
    /// </summary>
    [Range(1, 300, ErrorMessage = "Pan:Guests:SendWaitSeconds must be between 1 and 300.")]
    public int SendWaitSeconds { get; set; } = 30;

    /// <summary>Region of mobile numbers written without a country code (e.g. 0912345678).</summary>
    [Required(ErrorMessage = "Pan:Guests:DefaultRegion is required.")]
    [RegularExpression("^[A-Z]{2}$", ErrorMessage = "Pan:Guests:DefaultRegion must be an ISO region such as TW.")]
    public string DefaultRegion { get; set; } = "TW";

    /// <summary>Temporary accounts one client address may create per hour (createTemp code 13 beyond).</summary>
    [Range(1, 1_000_000, ErrorMessage = "Pan:Guests:CreateTempPerIpPerHour must be between 1 and 1000000.")]
    public int CreateTempPerIpPerHour { get; set; } = 30;

    /// <summary>accNameOk and convertTemp calls one client address may make per hour (code 13 beyond).</summary>
    [Range(1, 1_000_000, ErrorMessage = "Pan:Guests:NameLookupsPerIpPerHour must be between 1 and 1000000.")]
    public int NameLookupsPerIpPerHour { get; set; } = 300;

    /// <summary>Largest accepted request body, in bytes.</summary>
    [Range(1024, 1048576, ErrorMessage = "Pan:Guests:MaxBodyBytes must be between 1024 and 1048576.")]
    public int MaxBodyBytes { get; set; } = 65536;

    public TimeSpan TempTokenLifetime => TimeSpan.FromDays(TempTokenDays);

    public TimeSpan LoginTokenLifetime => TimeSpan.FromDays(LoginTokenDays);
}
