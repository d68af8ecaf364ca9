using Microsoft.Extensions.Options;

namespace Pan.Server.Email;

/// <summary>
/// Every node runs one: sends due outbox rows, then waits for this node's next enqueue (<see cref="MailOutboxSignal"/>)
/// or <c>Pan:Email:Outbox:PollMilliseconds</c> (rows queued by other nodes, retries that fell due). A failed pass
/// (database away) is logged and tried again at the next wake or poll.
/// </summary>
/// <remarks>
/// Why the sender is resolved on the first pass, not injected: hosted services are built before the host validates its
/// settings at start-up, and the sender's mail transport reads the email settings when it is built — so an injected
/// sender turned every start-up refusal into the email settings' error, hiding the setting actually at fault.
/// </remarks>
public sealed class MailOutboxWorker(IServiceProvider services, MailOutboxSignal signal, IOptions<MailOutboxOptions> options, ILogger<MailOutboxWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.Value.PollMilliseconds);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await services.GetRequiredService<MailOutboxSender>().SendDueAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Mail outbox pass failed; trying again in {Poll}", poll);
                }

                await signal.WaitAsync(poll, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
