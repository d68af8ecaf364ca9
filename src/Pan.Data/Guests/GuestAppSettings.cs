namespace Pan.Data.Guests;

/// <summary>Per-app settings of the apinode user endpoints (the <c>guest_app_settings</c> table), set with the operator CLI.</summary>
public sealed class GuestAppSettings
{
    /// <summary>The app (canonical app id; references apps.app_id).</summary>
    public string AppId { get; set; } = string.Empty;

    /// <summary>"email", "mobile" or "name": what an account name of this app is.</summary>
    public string AccountNameType { get; set; } = "email";

    /// <summary>"none", "email" or "sms": how a converted account is activated.</summary>
    public string Activation { get; set; } = "email";

    /// <summary>"en" or "zh-TW": the language of members that name none.</summary>
    public string Locale { get; set; } = "en";

    public DateTimeOffset Modified { get; set; }
}
