using System.Diagnostics;
using Grpc.Core;

namespace Pan.Bench.Load;

/// <summary>What a load run measured: timed calls (RPCs or hashes), completed operations and errors.</summary>
public sealed record LoadSample(
    long Calls,
    long Operations,
    long Errors,
    double Seconds,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    IReadOnlyList<string> ErrorSamples)
{
    /// <summary>How far past its nominal end the window stayed open waiting for its first completed call (<see cref="LoadClock"/>).</summary>
    public double StretchedSeconds { get; init; }

    public double CallsPerSecond => Seconds > 0 ? Calls / Seconds : 0;

    public double OperationsPerSecond => Seconds > 0 ? Operations / Seconds : 0;
}

/// <summary>
/// Runs an operation from many workers for a warm-up and a measured window. Closed loop by default (each worker starts
/// its next operation when the last ends); with a rate, operations start on a fixed global schedule instead (the
/// rate-limited pass), latency measured from the moment each call is sent.
/// </summary>
public static class LoadRunner
{
    public static async Task<LoadSample> RunAsync(
        int workers, TimeSpan warmup, TimeSpan duration, Func<Worker, Task> operation, double? ratePerSecond = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var clock = new LoadClock(warmup, duration);
        var schedule = ratePerSecond is { } rate ? new Schedule(clock.Start, rate) : null;
        var pool = Enumerable.Range(0, workers).Select(i => new Worker(i, workers, clock)).ToList();
        await Task.WhenAll(pool.Select(w => Task.Run(() => LoopAsync(w, clock, schedule, operation))));
        return Summarize(pool, clock);
    }

    private static async Task LoopAsync(Worker worker, LoadClock clock, Schedule? schedule, Func<Worker, Task> operation)
    {
        while (true)
        {
            if (schedule is not null)
            {
                var due = schedule.Next();
                if (clock.IsOver(due))
                {
                    return;
                }

                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
                }
            }

            var start = Stopwatch.GetTimestamp();
            if (clock.IsOver(start))
            {
                return;
            }

            var measured = clock.IsMeasured(start);
            try
            {
                await operation(worker);
                if (measured)
                {
                    worker.Operations++;
                }
            }
            catch (RpcException)
            {
                // Counted by Worker.CallAsync when it was measured.
            }

            // Why: a failed operation of any kind (no code arrived, no token returned) is a counted error; the run goes on.
            catch (Exception ex)
            {
                if (measured)
                {
                    worker.CountError($"{ex.GetType().Name}: {ex.Message}");
                }
            }
        }
    }

    private static LoadSample Summarize(List<Worker> pool, LoadClock clock)
    {
        var latencies = pool.SelectMany(w => w.Latencies).ToArray();
        Array.Sort(latencies);
        return new LoadSample(
            latencies.LongLength,
            pool.Sum(w => w.Operations),
            pool.Sum(w => w.Errors),
            clock.MeasuredSeconds,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.90),
            Percentile(latencies, 0.99),
            [.. pool.SelectMany(w => w.ErrorSamples).Distinct().Take(5)])
        {
            StretchedSeconds = clock.StretchedSeconds,
        };
    }

    private static double Percentile(long[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var index = Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[index] * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary>Start times i / rate after the run's start, handed out in order to whichever worker asks.</summary>
    private sealed class Schedule(long start, double rate)
    {
        private readonly double ticksPerCall = Stopwatch.Frequency / rate;
        private long next = -1;

        public long Next() => start + (long)(Interlocked.Increment(ref next) * ticksPerCall);
    }
}
