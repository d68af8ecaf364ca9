using Pan.Bench.Hosting;

namespace Pan.Bench.Tests;

public sealed class DatabaseCpuTests
{
    [Fact]
    public void Since_CountsEachBackendsGrowth_AndABackendThatExitedInBetweenTakesNothingAway()
    {
        // Backend 1 ran on (+20 ticks), backend 2 exited with 300 ticks behind it, backend 3 started (5 ticks), and
        // pid 4 was reused by a new process (started 90): its 7 ticks are all new.
        var before = new DatabaseCpu(new Dictionary<(int, long), long> { [(1, 10)] = 500, [(2, 20)] = 300, [(4, 40)] = 900 });
        var after = new DatabaseCpu(new Dictionary<(int, long), long> { [(1, 10)] = 520, [(3, 30)] = 5, [(4, 90)] = 7 });

        Assert.Equal(TimeSpan.FromSeconds(0.32), after.Since(before));
    }
}
