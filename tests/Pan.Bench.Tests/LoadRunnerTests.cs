using Pan.Bench.Load;

namespace Pan.Bench.Tests;

/// <summary>The load runner's windows: what counts as measured, and how long a window stays open.</summary>
public sealed class LoadRunnerTests
{
    [Fact]
    public async Task AWindowInWhichNoCallCompletes_StaysOpenUntilOneDoes_AndCountsItsRealLength()
    {
        // One worker whose every call outlasts the whole window: the first starts in the warm-up and ends after the
        // window's nominal end. A window that closed on the clock alone would hold no call at all (throughput 0), which
        // is what a machine stalled for longer than a short window produced.
        var call = TimeSpan.FromMilliseconds(600);
        var warmup = TimeSpan.FromMilliseconds(100);
        var window = TimeSpan.FromMilliseconds(200);

        var sample = await LoadRunner.RunAsync(1, warmup, window, w => w.TimeAsync(() => Task.Delay(call)));

        Assert.Equal(1, sample.Calls);
        Assert.Equal(1, sample.Operations);
        Assert.True(sample.Seconds > window.TotalSeconds, $"the window counted {sample.Seconds} s");
        Assert.True(sample.StretchedSeconds > 0, $"stretched {sample.StretchedSeconds} s");
        Assert.Equal(sample.Calls / sample.Seconds, sample.CallsPerSecond, 6);
    }

    [Fact]
    public async Task AWindowWithACompletedCall_ClosesAtItsEnd_AndCountsItsNominalLength()
    {
        // Why no warm-up and a first call that completes at once: the window's first call completes right after it
        // opens however busy the machine is, so this window never needs to stretch.
        var window = TimeSpan.FromSeconds(1);

        var sample = await LoadRunner.RunAsync(1, TimeSpan.Zero, window, w => w.TimeAsync(() => w.Sequence++ == 0 ? Task.CompletedTask : Task.Delay(20)));

        Assert.True(sample.Calls > 0);
        Assert.Equal(window.TotalSeconds, sample.Seconds, 6);
        Assert.Equal(0, sample.StretchedSeconds);
    }

    [Fact]
    public async Task AWarmUpOnlyRun_MeasuresNothing_AndDoesNotWait()
    {
        var sample = await LoadRunner.RunAsync(1, TimeSpan.FromMilliseconds(100), TimeSpan.Zero, w => w.TimeAsync(() => Task.Delay(300)));

        Assert.Equal(0, sample.Calls);
        Assert.Equal(0, sample.Seconds);
    }
}
