using System.Buffers;
using System.IO.Pipelines;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace Pan.Server.Transport;

/// <summary>
/// A request body reader that looks at every read before grpc-dotnet does and refuses a body it would fail on with an
/// <see cref="RpcException"/>, which grpc-dotnet answers with that status and logs at Information.
/// </summary>
public abstract class RefusingPipeReader(PipeReader inner) : PipeReader
{
    private ReadOnlySequence<byte> last;

    /// <summary>Runs <paramref name="next"/> with the request body read through <paramref name="wrap"/>.</summary>
    public static async Task ReadThroughAsync(HttpContext context, RequestDelegate next, Func<PipeReader, RefusingPipeReader> wrap)
    {
        var original = context.Features.Get<IRequestBodyPipeFeature>();
        if (original is null)
        {
            await next(context);
            return;
        }

        context.Features.Set<IRequestBodyPipeFeature>(new Body(wrap(original.Reader)));
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(original);
        }
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var pending = inner.ReadAsync(cancellationToken);
        if (!pending.IsCompletedSuccessfully)
        {
            return AwaitAsync(pending);
        }

        var result = pending.Result;
        Check(result);
        return new ValueTask<ReadResult>(result);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }

        Check(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed)
    {
        Consumed(last.Slice(last.Start, consumed).Length);
        inner.AdvanceTo(consumed);
    }

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        Consumed(last.Slice(last.Start, consumed).Length);
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    /// <summary>Why the body read so far (<paramref name="buffer"/>: everything not yet consumed) is refused, or null.</summary>
    protected abstract RpcException? Refusal(in ReadOnlySequence<byte> buffer, bool completed);

    /// <summary>The reader's owner consumed <paramref name="length"/> bytes from the start of the last read.</summary>
    protected abstract void Consumed(long length);

    private async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> pending)
    {
        var result = await pending;
        Check(result);
        return result;
    }

    private void Check(in ReadResult result)
    {
        last = result.Buffer;
        if (result.IsCanceled || Refusal(result.Buffer, result.IsCompleted) is not { } refusal)
        {
            return;
        }

        // Why advance: the server drains the rest of the body after the call, which fails on a reader left mid-read.
        inner.AdvanceTo(result.Buffer.Start);
        throw refusal;
    }

    private sealed record Body(PipeReader Reader) : IRequestBodyPipeFeature;
}
