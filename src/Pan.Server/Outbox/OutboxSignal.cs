using System.Threading.Channels;

namespace Pan.Server.Outbox;

/// <summary>Wakes this node's worker of one outbox; several wakes before it looks count as one.</summary>
public abstract class OutboxSignal
{
    private readonly Channel<bool> wakes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Wake() => wakes.Writer.TryWrite(true);

    /// <summary>Returns at the next wake or after <paramref name="poll"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan poll, CancellationToken cancellationToken)
    {
        // Why the system clock: the poll is a network cadence, not business time; a frozen test clock must not stop it.
        using var timeout = new CancellationTokenSource(poll, TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await wakes.Reader.ReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval passed without a wake.
        }
    }
}
