using System.ComponentModel.DataAnnotations;
using Pan.Server.Outbox;

namespace Pan.Server.AppEvents;

/// <summary>
/// <c>Pan:AppEvents:*</c>: how events reach the apps' endpoints. The outbox settings (<see cref="OutboxOptions"/>:
/// poll, first retry delay, longest retry delay) plus one request's time limit and how long an event is retried
/// before it is given up.
/// </summary>
public sealed class AppEventsOptions : OutboxOptions
{
    public const string Section = "Pan:AppEvents";

    public AppEventsOptions()
    {
        // Why longer than the mail and SMS outboxes: an app's endpoint may be down for hours (a deploy, an outage);
        // an event is worth as much on day three as in the first minute, and retrying every minute for days is noise.
        RetryDelaySeconds = 10;
        MaxRetryDelaySeconds = 3600;
    }

    /// <summary>One request's time limit; a slower answer counts as a failure and is retried.</summary>
    [Range(1, 60, ErrorMessage = "Pan:AppEvents:TimeoutSeconds must be between {1} and {2}.")]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// How long the secret a rotation replaces keeps signing alongside the new one (each event then carries both
    /// signatures), so the app's receivers accept events until it has deployed the new secret; 0: not at all.
    /// </summary>
    [Range(0, 168, ErrorMessage = "Pan:AppEvents:RotationOverlapHours must be between {1} and {2}.")]
    public int RotationOverlapHours { get; set; } = 24;

    /// <summary>How long after the change an event is still retried; then it is given up with a warning.</summary>
    [Range(1, 720, ErrorMessage = "Pan:AppEvents:GiveUpAfterHours must be between {1} and {2}.")]
    public int GiveUpAfterHours { get; set; } = 72;
}
