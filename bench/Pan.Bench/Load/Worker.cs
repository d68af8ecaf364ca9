using System.Diagnostics;
using Grpc.Core;

namespace Pan.Bench.Load;

/// <summary>
/// One simulated client in a load run. An operation times each RPC through <see cref="CallAsync{T}"/> (a flow makes
/// several); only calls that start inside the measured window are recorded. Not thread-safe: one loop owns it.
/// </summary>
public sealed class Worker
{
    private const int MaxErrorSamples = 5;

    private readonly LoadClock clock;

    internal Worker(int index, int count, LoadClock clock)
    {
        Index = index;
        Count = count;
        this.clock = clock;
        Random = new Random(unchecked(index * 7919 + Environment.TickCount));
    }

    /// <summary>A worker whose calls are never recorded, for setup done through the same flows.</summary>
    public static Worker Untimed(int index = 0) => new(index, 1, new LoadClock(TimeSpan.FromDays(365), TimeSpan.Zero));

    /// <summary>0-based index of this worker; workers own disjoint slices of shared data (phones) through it.</summary>
    public int Index { get; }

    /// <summary>How many workers the run has.</summary>
    public int Count { get; }

    public Random Random { get; }

    /// <summary>A counter private to this worker (e.g. for round-robin over tokens).</summary>
    public long Sequence { get; set; }

    internal List<long> Latencies { get; } = new(4096);

    internal long Errors { get; private set; }

    internal long Operations { get; set; }

    internal List<string> ErrorSamples { get; } = [];

    /// <summary>Makes one timed RPC. A failure is counted (once) and rethrown, which ends the operation.</summary>
    public async Task<T> CallAsync<T>(Func<AsyncUnaryCall<T>> call)
    {
        var start = Stopwatch.GetTimestamp();
        var recording = clock.IsMeasured(start);
        try
        {
            var response = await call();
            if (recording)
            {
                Record(start);
            }

            return response;
        }
        catch (RpcException ex)
        {
            if (recording)
            {
                CountError($"{ex.StatusCode}: {ex.Status.Detail}");
            }

            throw;
        }
    }

    /// <summary>Times an asynchronous piece of work that is not an RPC (the commit floor's database statements).</summary>
    public async Task TimeAsync(Func<Task> work)
    {
        var start = Stopwatch.GetTimestamp();
        var recording = clock.IsMeasured(start);
        await work();
        if (recording)
        {
            Record(start);
        }
    }

    /// <summary>Times a synchronous piece of work (the in-process hash floor).</summary>
    public void Time(Action work)
    {
        var start = Stopwatch.GetTimestamp();
        var recording = clock.IsMeasured(start);
        work();
        if (recording)
        {
            Record(start);
        }
    }

    private void Record(long start)
    {
        Latencies.Add(Stopwatch.GetTimestamp() - start);
        clock.CallCompleted();
    }

    internal void CountError(string description)
    {
        clock.CallCompleted();
        Errors++;
        if (ErrorSamples.Count < MaxErrorSamples)
        {
            ErrorSamples.Add(description);
        }
    }
}
