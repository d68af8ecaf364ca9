using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Pan.Server.Email;

/// <summary>
/// <c>Pan:Email:Outbox:*</c>: how each node's outbox sender looks for queued mail and backs off while the relay is
/// down. A queued mail is given up when its code expires (<c>Pan:Codes:CodeMinutes</c>): after that it is useless.
/// </summary>
public sealed class MailOutboxOptions
{
    public const string Section = "Pan:Email:Outbox";

    /// <summary>How often a node looks for mail queued by other nodes or due for a retry (its own new mail wakes it at once).</summary>
    [Range(50, 600_000, ErrorMessage = "Pan:Email:Outbox:PollMilliseconds must be between {1} and {2}.")]
    public int PollMilliseconds { get; set; } = 5000;

    /// <summary>Wait after the first failed attempt (the transport's own retries included); doubled per further failure.</summary>
    [Range(1, 3600, ErrorMessage = "Pan:Email:Outbox:RetryDelaySeconds must be between {1} and {2}.")]
    public int RetryDelaySeconds { get; set; } = 5;

    /// <summary>The longest wait between two attempts.</summary>
    [Range(1, 3600, ErrorMessage = "Pan:Email:Outbox:MaxRetryDelaySeconds must be between {1} and {2}.")]
    public int MaxRetryDelaySeconds { get; set; } = 60;
}

/// <summary>Rules spanning several outbox settings.</summary>
internal sealed class MailOutboxOptionsValidator : IValidateOptions<MailOutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, MailOutboxOptions options) =>
        options.MaxRetryDelaySeconds < options.RetryDelaySeconds
            ? ValidateOptionsResult.Fail($"Pan:Email:Outbox:MaxRetryDelaySeconds ({options.MaxRetryDelaySeconds}) must not be below Pan:Email:Outbox:RetryDelaySeconds ({options.RetryDelaySeconds}).")
            : ValidateOptionsResult.Success;
}
