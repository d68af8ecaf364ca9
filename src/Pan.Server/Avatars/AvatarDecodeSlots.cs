using Grpc.Core;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;

namespace Pan.Server.Avatars;

/// <summary>
/// The node's decode slots (<c>Pan:Avatars:MaxConcurrentDecodes</c>): an upload is decoded only while it holds one,
/// so a burst of uploads cannot take more than that many decodes' worth of memory. An upload waits at most
/// <c>Pan:Avatars:DecodeWaitMilliseconds</c> for a slot, then is RESOURCE_EXHAUSTED <c>AVATAR_BUSY</c>.
/// </summary>
public sealed class AvatarDecodeSlots(IOptions<AvatarOptions> options) : IDisposable
{
    private readonly SemaphoreSlim slots = new(options.Value.MaxConcurrentDecodes, options.Value.MaxConcurrentDecodes);

    /// <summary>Takes a slot (dispose the result to give it back), or throws RESOURCE_EXHAUSTED once the wait is over.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        if (!await slots.WaitAsync(options.Value.DecodeWaitMilliseconds, cancellationToken))
        {
            throw PanError.Plain(StatusCode.ResourceExhausted, "AVATAR_BUSY", "Too many pictures are being processed; try again shortly.");
        }

        return new Slot(slots);
    }

    public void Dispose() => slots.Dispose();

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
