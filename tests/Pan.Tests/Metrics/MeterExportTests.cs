using System.Diagnostics.Metrics;
using Pan.Server.Metrics;

namespace Pan.Tests.Metrics;

/// <summary>The Prometheus text the metrics listener writes (unit: a meter of the test's own, no server).</summary>
public sealed class MeterExportTests : IDisposable
{
    private readonly Meter meter = new("Pan.Tests.MeterExport." + Guid.NewGuid().ToString("N"));
    private readonly MeterExport export;

    public MeterExportTests()
    {
        export = new MeterExport(i => ReferenceEquals(i.Meter, meter));
    }

    [Fact]
    public void ACounter_IsATotal_OneSeriesPerLabelSet_WhateverTheTagOrder_WithItsValuesEscaped()
    {
        var counter = meter.CreateCounter<long>("pan.things", "{thing}", "Things.");
        counter.Add(1, new("kind", "a"), new("outcome", "ok"));
        counter.Add(2, new("outcome", "ok"), new("kind", "a"));
        counter.Add(1, new("kind", "say \"hi\"\\\n"), new("outcome", "ok"));
        counter.Add(1, new("kind", new string('x', 400)), new("outcome", "ok"));
        counter.Add(1, new("kind", new string('x', 400)), new("outcome", "ok"));

        var text = export.Scrape();
        Assert.Contains("# TYPE pan_things_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("pan_things_total{kind=\"a\",outcome=\"ok\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("pan_things_total{kind=\"say \\\"hi\\\"\\\\\\n\",outcome=\"ok\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"pan_things_total{{kind=\"{new string('x', 400)}\",outcome=\"ok\"}} 2\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AHistogram_HasCumulativeBuckets_OnItsAdvisedBounds_WithSumAndCount_InSeconds()
    {
        var histogram = meter.CreateHistogram<double>("pan.wait", "s", "Waits.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2] });
        foreach (var value in new[] { 0.5, 1, 1.5, 3 })
        {
            histogram.Record(value, new KeyValuePair<string, object?>("status", 200));
        }

        var text = export.Scrape();
        Assert.Contains("# TYPE pan_wait_seconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains("pan_wait_seconds_bucket{status=\"200\",le=\"1\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("pan_wait_seconds_bucket{status=\"200\",le=\"2\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("pan_wait_seconds_bucket{status=\"200\",le=\"+Inf\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("pan_wait_seconds_sum{status=\"200\"} 6\n", text, StringComparison.Ordinal);
        Assert.Contains("pan_wait_seconds_count{status=\"200\"} 4\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUpDownCounter_AndAnObservableGauge_AreGauges()
    {
        var active = meter.CreateUpDownCounter<long>("pan.active");
        active.Add(3);
        active.Add(-1);
        var level = 7;
        meter.CreateObservableGauge("pan.level", () => level);

        var text = export.Scrape();
        Assert.Contains("# TYPE pan_active gauge\npan_active 2\n", text, StringComparison.Ordinal);
        Assert.Contains("pan_level 7\n", text, StringComparison.Ordinal);
        level = 9;
        Assert.Contains("pan_level 9\n", export.Scrape(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        export.Dispose();
        meter.Dispose();
    }
}
