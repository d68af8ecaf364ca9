using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Email;

/// <summary><c>Pan:Email:*</c>: how Pan sends email.</summary>
public sealed class EmailOptions
{
    public const string Section = "Pan:Email";

    /// <summary>
    /// <c>smtp</c>, or <c>console</c> (Development only, and the default there: writes mails, codes included, to the
    /// log). Required in every other environment.
    /// </summary>
    public string? Provider { get; set; }
}

/// <summary>How to reach the SMTP server: the MailKit <c>SecureSocketOptions</c> of the same names.</summary>
public enum SmtpSecurity
{
    /// <summary>Plain text (loopback relays only when credentials are sent).</summary>
    None,

    /// <summary>Connect in clear, then require STARTTLS (typically port 587).</summary>
    StartTls,

    /// <summary>TLS from the first byte (typically port 465).</summary>
    SslOnConnect,

    /// <summary>TLS on connect for port 465, otherwise STARTTLS when the server offers it.</summary>
    Auto,
}

/// <summary><c>Pan:Email:Smtp:*</c>: the SMTP relay (provider <c>smtp</c>).</summary>
public sealed class SmtpOptions
{
    public const string Section = "Pan:Email:Smtp";

    /// <summary>Host name or address of the relay. Required with provider smtp.</summary>
    public string? Host { get; set; }

    [Range(1, 65535, ErrorMessage = "Pan:Email:Smtp:Port must be between {1} and {2}.")]
    public int Port { get; set; } = 587;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    /// <summary>Set to authenticate (with <see cref="Password"/>). Never logged.</summary>
    public string? Username { get; set; }

    /// <summary>Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>The sender, address and display name: <c>Pan &lt;no-reply@example.com&gt;</c> (or a bare address). Required with provider smtp.</summary>
    public string? From { get; set; }

    /// <summary>Seconds one attempt (connect, authenticate, send) may take.</summary>
    [Range(1, 300, ErrorMessage = "Pan:Email:Smtp:TimeoutSeconds must be between {1} and {2}.")]
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Further attempts after a connection error, a timeout or a 4xx answer (a 5xx answer is never retried).</summary>
    [Range(0, 10, ErrorMessage = "Pan:Email:Smtp:Retries must be between {1} and {2}.")]
    public int Retries { get; set; } = 2;

    /// <summary>Wait before the first retry; doubled for each further one, with ±20 % jitter.</summary>
    [Range(0, 60_000, ErrorMessage = "Pan:Email:Smtp:RetryDelayMilliseconds must be between {1} and {2}.")]
    public int RetryDelayMilliseconds { get; set; } = 500;
}

/// <summary>
/// <c>Pan:Email:Limits:*</c>: the cool-down and hourly caps on email sends and password-recovery requests, counted in
/// the database over the last hour on every node.
/// </summary>
public sealed class EmailLimitsOptions
{
    public const string Section = "Pan:Email:Limits";

    /// <summary>Seconds between two sends of the same kind to the same address (or recovery requests for the same phone).</summary>
    [Range(0, 3600, ErrorMessage = "Pan:Email:Limits:CooldownSeconds must be between {1} and {2}.")]
    public int CooldownSeconds { get; set; } = 60;

    /// <summary>Sends (or recovery requests) per email address or phone per hour.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Pan:Email:Limits:PerTargetPerHour must be between {1} and {2}.")]
    public int PerTargetPerHour { get; set; } = 5;

    /// <summary>Sends per member per hour, whatever the address.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Pan:Email:Limits:PerMemberPerHour must be between {1} and {2}.")]
    public int PerMemberPerHour { get; set; } = 10;

    /// <summary>Sends and recovery requests per client address per hour.</summary>
    [Range(1, 100_000_000, ErrorMessage = "Pan:Email:Limits:PerIpPerHour must be between {1} and {2}.")]
    public int PerIpPerHour { get; set; } = 30;

    /// <summary>Email sign-in check-existence lookups per client address per hour (the step that may reveal an account).</summary>
    [Range(1, 100_000_000, ErrorMessage = "Pan:Email:Limits:LookupsPerIpPerHour must be between {1} and {2}.")]
    public int LookupsPerIpPerHour { get; set; } = 60;
}
