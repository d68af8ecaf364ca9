using System.Diagnostics;

namespace Pan.Bench.Load;

/// <summary>
/// The timeline of one load run in <see cref="Stopwatch"/> ticks: warm-up, then the measured window. A measured window
/// closes at its nominal end only once a call started inside it has completed (answered or failed), or
/// <see cref="MaximumStretch"/> after that end: on a machine whose processes can all stall for longer than a short window
/// (another test suite on the same two cores), a window would otherwise close without a single call and report zero.
/// A window that had a completed call by its nominal end closes there, as before.
/// </summary>
internal sealed class LoadClock
{
    /// <summary>How far past its nominal end a window waits for its first completed call before it closes empty.</summary>
    public static readonly TimeSpan MaximumStretch = TimeSpan.FromSeconds(30);

    private readonly long latestEnd;
    private readonly bool waitsForACall;
    private long firstCompleted = long.MaxValue;
    private long closed = long.MaxValue;

    public LoadClock(TimeSpan warmup, TimeSpan duration)
    {
        Start = Stopwatch.GetTimestamp();
        MeasureStart = Start + ToTicks(warmup);
        End = MeasureStart + ToTicks(duration);
        latestEnd = End + ToTicks(MaximumStretch);

        // Why only a measured window waits: a warm-up-only run (duration zero) measures nothing.
        waitsForACall = duration > TimeSpan.Zero;
    }

    public long Start { get; }

    public long MeasureStart { get; }

    /// <summary>The window's nominal end.</summary>
    public long End { get; }

    /// <summary>
    /// How long the window was open, in seconds: its duration when a call had completed by its nominal end, otherwise
    /// up to the moment it closed.
    /// </summary>
    public double MeasuredSeconds => Seconds(Stretched ? Volatile.Read(ref closed) : End);

    /// <summary>How far past its nominal end the window stayed open, in seconds (0 when it closed on time).</summary>
    public double StretchedSeconds => Stretched ? Seconds(Volatile.Read(ref closed)) - Seconds(End) : 0;

    private bool Stretched => waitsForACall && Volatile.Read(ref firstCompleted) > End && Volatile.Read(ref closed) is var at && at != long.MaxValue && at > End;

    public bool IsMeasured(long timestamp) => timestamp >= MeasureStart && !IsOver(timestamp);

    public bool IsOver(long timestamp)
    {
        if (timestamp < End)
        {
            return false;
        }

        if (Volatile.Read(ref closed) != long.MaxValue)
        {
            return true;
        }

        if (waitsForACall && Volatile.Read(ref firstCompleted) == long.MaxValue && timestamp < latestEnd)
        {
            return false;
        }

        Interlocked.CompareExchange(ref closed, timestamp, long.MaxValue);
        return true;
    }

    /// <summary>A call started inside the window has completed (answered or failed).</summary>
    public void CallCompleted()
    {
        if (Volatile.Read(ref firstCompleted) == long.MaxValue)
        {
            Interlocked.CompareExchange(ref firstCompleted, Stopwatch.GetTimestamp(), long.MaxValue);
        }
    }

    private double Seconds(long until) => (until - MeasureStart) / (double)Stopwatch.Frequency;

    public static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
