using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>
/// Development only: writes the message to the log instead of sending it, so a developer can read the code.
/// Start-up refuses <c>Pan:Sms:Provider=console</c> in any other environment.
/// </summary>
public sealed class ConsoleSmsProvider(IHostEnvironment environment, ILogger<ConsoleSmsProvider> logger) : ISmsProvider
{
    public const string Name = "console";

    public Task SendAsync(PhoneNumber to, string text, CancellationToken cancellationToken)
    {
        // Why: the text carries a one-time code; it may reach the log only on a developer's machine. The start-up
        // check already refuses this provider elsewhere; this is the second lock.
        if (environment.IsDevelopment())
        {
            logger.LogInformation("Development SMS to number ending {PhoneSuffix}: {Text}", to.Suffix, text);
        }
        else
        {
            logger.LogWarning("Console SMS provider outside Development: message to number ending {PhoneSuffix} dropped", to.Suffix);
        }

        return Task.CompletedTask;
    }
}
