using Microsoft.Extensions.Options;

namespace Pan.Server.Outbox;

/// <summary>
/// How each node's sender of one outbox (<c>Pan:Email:Outbox</c>, <c>Pan:Sms:Outbox</c>) looks for queued messages and
/// backs off while the relay or provider is down. A queued message is given up when its code expires: after that it
/// is useless.
/// </summary>
public abstract class OutboxOptions
{
    /// <summary>How often a node looks for messages queued by other nodes or due for a retry (its own new ones wake it at once).</summary>
    public int PollMilliseconds { get; set; } = 5000;

    /// <summary>Wait after the first failed attempt (the transport's own retries included); doubled per further failure.</summary>
    public int RetryDelaySeconds { get; set; } = 5;

    /// <summary>The longest wait between two attempts.</summary>
    public int MaxRetryDelaySeconds { get; set; } = 60;
}

/// <summary>The ranges of one outbox's settings and the rule between them, reported under the outbox's own section.</summary>
internal sealed class OutboxOptionsValidator<TOptions>(string section) : IValidateOptions<TOptions>
    where TOptions : OutboxOptions
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = new List<string>();
        Range(failures, nameof(options.PollMilliseconds), options.PollMilliseconds, 50, 600_000);
        Range(failures, nameof(options.RetryDelaySeconds), options.RetryDelaySeconds, 1, 3600);
        Range(failures, nameof(options.MaxRetryDelaySeconds), options.MaxRetryDelaySeconds, 1, 3600);
        if (failures.Count == 0 && options.MaxRetryDelaySeconds < options.RetryDelaySeconds)
        {
            failures.Add($"{section}:MaxRetryDelaySeconds ({options.MaxRetryDelaySeconds}) must not be below {section}:RetryDelaySeconds ({options.RetryDelaySeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void Range(List<string> failures, string setting, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{section}:{setting} must be between {min} and {max}.");
        }
    }
}
