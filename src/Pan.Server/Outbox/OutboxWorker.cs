using Microsoft.Extensions.Options;

namespace Pan.Server.Outbox;

/// <summary>What a worker runs on each pass: send every row due now that this node can claim.</summary>
public interface IOutboxPass
{
    Task<int> SendDueAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Every node runs one per outbox: sends due rows, then waits for this node's next enqueue (<see cref="OutboxSignal"/>)
/// or <see cref="OutboxOptions.PollMilliseconds"/> (rows queued by other nodes, retries that fell due). A failed pass
/// (database away) is logged and tried again at the next wake or poll.
/// </summary>
/// <remarks>
/// Why the sender is resolved on the first pass, not injected: hosted services are built before the host validates its
/// settings at start-up, and a sender's transport reads its settings when it is built — so an injected sender turned
/// every start-up refusal into that transport's settings error, hiding the setting actually at fault.
/// </remarks>
public abstract class OutboxWorker<TSender, TOptions>(
    IServiceProvider services, OutboxSignal signal, IOptions<TOptions> options, string channel, ILogger logger) : BackgroundService
    where TSender : IOutboxPass
    where TOptions : OutboxOptions
{
    /// <summary>Where the worker resolves its sender.</summary>
    protected IServiceProvider Services => services;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.Value.PollMilliseconds);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await services.GetRequiredService<TSender>().SendDueAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "{Channel} outbox pass failed; trying again in {Poll}", channel, poll);
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
