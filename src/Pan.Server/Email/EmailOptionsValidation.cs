using Microsoft.Extensions.Options;
using MimeKit;

namespace Pan.Server.Email;

/// <summary>
/// Start-up rules for <c>Pan:Email</c>. Fails closed: outside Development a provider must be named and the console
/// provider (which logs codes) is refused; smtp needs a host and a valid sender, and never sends credentials in clear
/// to anything but a loopback relay.
/// </summary>
internal sealed class EmailOptionsValidator(IHostEnvironment environment, IOptions<SmtpOptions> smtp) : IValidateOptions<EmailOptions>
{
    public const string Smtp = "smtp";
    public const string Console = "console";

    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        switch (options.Provider)
        {
            case null or "":
                failures.Add($"Pan:Email:Provider is required in the '{environment.EnvironmentName}' environment (smtp).");
                break;
            case Console when !environment.IsDevelopment():
                failures.Add($"Pan:Email:Provider 'console' writes mails and their codes to the log and is allowed only in the Development environment, not in '{environment.EnvironmentName}'.");
                break;
            case Console:
                break;
            case Smtp:
                failures.AddRange(CheckSmtp(smtp.Value));
                break;
            default:
                failures.Add($"Pan:Email:Provider '{options.Provider}' is unknown (one of: smtp, console).");
                break;
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static IEnumerable<string> CheckSmtp(SmtpOptions smtp)
    {
        if (string.IsNullOrWhiteSpace(smtp.Host))
        {
            yield return "Pan:Email:Smtp:Host is required when Pan:Email:Provider is 'smtp'.";
        }

        if (string.IsNullOrWhiteSpace(smtp.From) || !MailboxAddress.TryParse(smtp.From, out var from) || EmailAddresses.Normalize(from.Address) is null)
        {
            yield return "Pan:Email:Smtp:From must be a sender address, optionally with a display name: 'Pan <no-reply@example.com>'.";
        }

        if (string.IsNullOrEmpty(smtp.Username) != string.IsNullOrEmpty(smtp.Password))
        {
            yield return "Pan:Email:Smtp:Username and Pan:Email:Smtp:Password must be set together.";
        }

        if (!string.IsNullOrEmpty(smtp.Username) && smtp.Security == SmtpSecurity.None && !IsLoopback(smtp.Host))
        {
            yield return "Pan:Email:Smtp:Security is 'None' but credentials are set: the password would cross the network in clear. Use StartTls or SslOnConnect (None with credentials is allowed only for a loopback relay).";
        }
    }

    private static bool IsLoopback(string? host) =>
        host is "localhost" || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));
}

/// <summary>Development without a provider setting uses the console provider; names are matched case-insensitively.</summary>
internal sealed class EmailOptionsDefaults(IHostEnvironment environment) : IPostConfigureOptions<EmailOptions>
{
    public void PostConfigure(string? name, EmailOptions options)
    {
        options.Provider = options.Provider?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(options.Provider) && environment.IsDevelopment())
        {
            options.Provider = EmailOptionsValidator.Console;
        }
    }
}
