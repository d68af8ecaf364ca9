using Pan.Server.Outbox;

namespace Pan.Server.Email;

/// <summary><c>Pan:Email:Outbox:*</c>: the reset mail's outbox (<see cref="OutboxOptions"/>); a mail is given up when its code expires (<c>Pan:Codes:CodeMinutes</c>).</summary>
public sealed class MailOutboxOptions : OutboxOptions
{
    public const string Section = "Pan:Email:Outbox";
}
