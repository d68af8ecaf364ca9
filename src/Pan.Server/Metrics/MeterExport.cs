using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Pan.Server.Metrics;

/// <summary>
/// Collects the measurements of the instruments a filter accepts (one <see cref="MeterListener"/>) and writes them in
/// the Prometheus text exposition format (version 0.0.4). Counters become <c>_total</c> counters, up-down counters and
/// gauges gauges, histograms cumulative <c>_bucket</c>/<c>_sum</c>/<c>_count</c> series (on the instrument's advised
/// bucket bounds, else OpenTelemetry's defaults); observable instruments are read when a scrape asks.
/// </summary>
/// <remarks>
/// Cost of one measurement: the label set is written into a stack buffer and looked up without allocating (a new label
/// set allocates once), then one interlocked add (a histogram: a bucket search and three). No lock on the way.
/// </remarks>
internal sealed class MeterExport : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentDictionary<Instrument, MeterSeries> series = new();
    private readonly object scrapeGate = new();

    public MeterExport(Func<Instrument, bool> filter)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (filter(instrument))
            {
                var s = series.GetOrAdd(instrument, i => new MeterSeries(i));
                l.EnableMeasurementEvents(instrument, s);
            }
        };
        listener.SetMeasurementEventCallback<byte>((i, m, t, s) => ((MeterSeries)s!).Record(m, t));
        listener.SetMeasurementEventCallback<short>((i, m, t, s) => ((MeterSeries)s!).Record(m, t));
        listener.SetMeasurementEventCallback<int>((i, m, t, s) => ((MeterSeries)s!).Record(m, t));
        listener.SetMeasurementEventCallback<long>((i, m, t, s) => ((MeterSeries)s!).Record(m, t));
        listener.SetMeasurementEventCallback<float>((i, m, t, s) => ((MeterSeries)s!).Record(m, t));
        listener.SetMeasurementEventCallback<double>((i, m, t, s) => ((MeterSeries)s!).Record(m, t));
        listener.SetMeasurementEventCallback<decimal>((i, m, t, s) => ((MeterSeries)s!).Record((double)m, t));
        listener.Start();
    }

    /// <summary>Reads the observable instruments and writes every series.</summary>
    public string Scrape()
    {
        lock (scrapeGate)
        {
            listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (var s in series.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                s.Write(text);
            }

            return text.ToString();
        }
    }

    public void Dispose() => listener.Dispose();

    /// <summary>Prometheus's name for an instrument: dots and dashes to underscores, the unit's word appended, <c>_total</c> for counters.</summary>
    internal static string NameOf(Instrument instrument)
    {
        var name = Sanitize(instrument.Name);
        var unit = instrument.Unit switch
        {
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            _ => null,
        };
        if (unit is not null && !name.EndsWith("_" + unit, StringComparison.Ordinal))
        {
            name += "_" + unit;
        }

        return IsCounter(instrument) ? name + "_total" : name;
    }

    internal static bool IsCounter(Instrument instrument)
    {
        var type = instrument.GetType();
        return type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Counter<>) || type.GetGenericTypeDefinition() == typeof(ObservableCounter<>));
    }

    internal static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] != '_')
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }
}
