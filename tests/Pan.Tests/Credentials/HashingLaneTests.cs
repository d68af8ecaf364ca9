using Pan.Server.Credentials;

namespace Pan.Tests.Credentials;

/// <summary>The lane password hashes run on: its width, order, failures and cancellation, without a server.</summary>
public sealed class HashingLaneTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task NoMoreJobsRunAtOnceThanTheLaneIsWide()
    {
        using var lane = new HashingLane(2);
        var running = 0;
        var most = 0;
        var jobs = Enumerable.Range(0, 12).Select(_ => lane.RunAsync(() =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            Thread.Sleep(15);
            Interlocked.Decrement(ref running);
            return now;
        }, default)).ToList();

        await Task.WhenAll(jobs).WaitAsync(Patience);
        Assert.Equal(2, most);
    }

    [Fact]
    public async Task JobsRunOnLaneThreads_AndTheirCallersContinueElsewhere()
    {
        using var lane = new HashingLane(1);
        var jobThread = await lane.RunAsync(() => Thread.CurrentThread.Name, default).WaitAsync(Patience);
        Assert.Equal("pan-hash-0", jobThread);
        Assert.NotEqual("pan-hash-0", Thread.CurrentThread.Name);
    }

    [Fact]
    public async Task AFailingJob_FailsItsCaller_AndTheLaneKeepsWorking()
    {
        using var lane = new HashingLane(1);
        var failed = lane.RunAsync<int>(() => throw new InvalidOperationException("bad hash"), default);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failed.WaitAsync(Patience));
        Assert.Equal("bad hash", error.Message);
        Assert.Equal(42, await lane.RunAsync(() => 42, default).WaitAsync(Patience));
    }

    [Fact]
    public async Task AQueuedJobWhoseCallerGivesUp_EndsAtOnce_AndNeverRuns()
    {
        using var lane = new HashingLane(1);
        using var release = new ManualResetEventSlim();
        var blocker = lane.RunAsync(() => release.Wait(Patience), default);
        using var giveUp = new CancellationTokenSource();
        var ran = false;
        var queued = lane.RunAsync(() => ran = true, giveUp.Token);

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Patience));
        release.Set();
        Assert.True(await blocker.WaitAsync(Patience));
        Assert.Equal(7, await lane.RunAsync(() => 7, default).WaitAsync(Patience));
        Assert.False(ran);
    }

    [Fact]
    public async Task AnAlreadyCancelledCaller_IsRefusedWithoutQueueing()
    {
        using var lane = new HashingLane(1);
        var ran = false;
        var job = lane.RunAsync(() => ran = true, new CancellationToken(canceled: true));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job);
        Assert.False(ran);
    }

    [Fact]
    public async Task Dispose_FinishesTheQueuedJobs()
    {
        var lane = new HashingLane(1);
        var jobs = Enumerable.Range(0, 5).Select(i => lane.RunAsync(() => { Thread.Sleep(5); return i; }, default)).ToList();
        lane.Dispose();
        var results = await Task.WhenAll(jobs).WaitAsync(Patience);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, results);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
