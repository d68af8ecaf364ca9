using Pan.Data.Outbox;

namespace Pan.Data.AppEvents;

/// <summary>
/// One event waiting to be delivered to one app (the <c>app_event_outbox</c> table), written in the transaction of
/// the change it reports. <see cref="OutboxEntry.Uid"/> is the member the event is about, <see cref="OutboxEntry.Kind"/>
/// the event type (<c>member.deleted</c>), <see cref="OutboxEntry.Expires"/> when delivery is given up, and
/// <see cref="OutboxEntry.Payload"/> the exact JSON body (member ids only, nothing private), dropped once the row ends.
/// </summary>
public sealed class AppEventOutboxEntry : OutboxEntry
{
    /// <summary>The app the event goes to.</summary>
    public string AppId { get; set; } = string.Empty;

    /// <summary>The event's id (the body's <c>id</c> and the <c>Pan-Event-Id</c> header), the same on every attempt.</summary>
    public Guid EventId { get; set; }
}
