using System.Diagnostics;

namespace Pan.Bench.Load;

/// <summary>The timeline of one load run in <see cref="Stopwatch"/> ticks: warm-up, then the measured window.</summary>
internal sealed class LoadClock
{
    public LoadClock(TimeSpan warmup, TimeSpan duration)
    {
        Start = Stopwatch.GetTimestamp();
        MeasureStart = Start + ToTicks(warmup);
        End = MeasureStart + ToTicks(duration);
    }

    public long Start { get; }

    public long MeasureStart { get; }

    public long End { get; }

    public bool IsMeasured(long timestamp) => timestamp >= MeasureStart && timestamp < End;

    public bool IsOver(long timestamp) => timestamp >= End;

    public static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
