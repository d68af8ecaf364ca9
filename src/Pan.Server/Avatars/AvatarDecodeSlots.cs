using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;

namespace Pan.Server.Avatars;

/// <summary>
/// The node's decode slots (<c>Pan:Avatars:MaxConcurrentDecodes</c>): an upload is decoded only while it holds one,
/// so a burst of uploads cannot take more than that many decodes' worth of memory. An upload waits at most
/// <c>Pan:Avatars:DecodeWaitMilliseconds</c> for a slot, then is RESOURCE_EXHAUSTED <c>AVATAR_BUSY</c>. One phone
/// account has at most one upload waiting for or holding a slot on the node: another of its uploads meanwhile (the same
/// member signed in again, or another member of the phone) is <c>AVATAR_BUSY</c> at once, without waiting, so one
/// account cannot hold every slot. Uploads waiting for a slot hold at most <c>Pan:Avatars:MaxWaitingBytes</c> of
/// pictures between them: an upload that finds no free slot and would take the node past that is <c>AVATAR_BUSY</c> at
/// once, so the memory of waiting uploads is bounded by the node, not by how many accounts upload at once.
/// </summary>
/// <remarks>
/// Why per account, not per member: one sign-in of a phone can switch between the phone's members. Why in memory: the
/// slots guard this node's CPU and memory, not a rule across nodes.
/// </remarks>
public sealed class AvatarDecodeSlots(IOptions<AvatarOptions> options) : IDisposable
{
    private readonly SemaphoreSlim slots = new(options.Value.MaxConcurrentDecodes, options.Value.MaxConcurrentDecodes);

    private readonly ConcurrentDictionary<long, byte> accounts = new();

    private long waitingBytes;

    /// <summary>Bytes of pictures waiting for a slot now.</summary>
    public long WaitingBytes => Interlocked.Read(ref waitingBytes);

    /// <summary>
    /// Takes a slot for an upload of <paramref name="accountId"/> (dispose the result to give it back), or throws
    /// RESOURCE_EXHAUSTED: at once while another upload of the account waits for or holds one, else once the wait is over.
    /// </summary>
    public Task<IDisposable> EnterAsync(long accountId, CancellationToken cancellationToken) => EnterAsync(accountId, 0, cancellationToken);

    /// <summary>
    /// As <see cref="EnterAsync(long, CancellationToken)"/> for a picture of <paramref name="bytes"/>: when no slot is
    /// free at once, the picture waits only within <c>Pan:Avatars:MaxWaitingBytes</c>, else RESOURCE_EXHAUSTED at once.
    /// </summary>
    public async Task<IDisposable> EnterAsync(long accountId, long bytes, CancellationToken cancellationToken)
    {
        if (!accounts.TryAdd(accountId, 0))
        {
            throw Busy();
        }

        try
        {
            if (!slots.Wait(0, CancellationToken.None))
            {
                if (Interlocked.Add(ref waitingBytes, bytes) > options.Value.MaxWaitingBytes)
                {
                    Interlocked.Add(ref waitingBytes, -bytes);
                    throw Busy();
                }

                try
                {
                    if (!await slots.WaitAsync(options.Value.DecodeWaitMilliseconds, cancellationToken))
                    {
                        throw Busy();
                    }
                }
                finally
                {
                    Interlocked.Add(ref waitingBytes, -bytes);
                }
            }
        }
        catch
        {
            accounts.TryRemove(accountId, out _);
            throw;
        }

        return new Slot(this, accountId);
    }

    public void Dispose() => slots.Dispose();

    private static RpcException Busy() =>
        PanError.Plain(StatusCode.ResourceExhausted, "AVATAR_BUSY", "Too many pictures are being processed; try again shortly.");

    private sealed class Slot(AvatarDecodeSlots owner, long accountId) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                owner.slots.Release();
                owner.accounts.TryRemove(accountId, out _);
            }
        }
    }
}
