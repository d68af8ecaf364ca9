using Microsoft.Extensions.Options;
using Pan.Server.Outbox;

namespace Pan.Server.Email;

/// <summary>This node's sender of queued reset mail (<see cref="OutboxWorker{TSender, TOptions}"/>).</summary>
public sealed class MailOutboxWorker(IServiceProvider services, MailOutboxSignal signal, IOptions<MailOutboxOptions> options, ILogger<MailOutboxWorker> logger)
    : OutboxWorker<MailOutboxSender, MailOutboxOptions>(services, signal, options, "Mail", logger);
