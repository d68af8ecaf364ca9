using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Pan.Server.Metrics;

internal enum MeterKind
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>One instrument's series in <see cref="MeterExport"/>, by label set.</summary>
internal sealed class MeterSeries
{
    private static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly ConcurrentDictionary<string, MeterCell> cells = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MeterCell>.AlternateLookup<ReadOnlySpan<char>> lookup;
    private readonly MeterKind kind;
    private readonly bool observable;
    private readonly bool delta;
    private readonly double[] buckets;
    private readonly string help;

    public MeterSeries(Instrument instrument)
    {
        Name = MeterExport.NameOf(instrument);
        help = (instrument.Description ?? instrument.Name).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        observable = instrument.IsObservable;
        var type = instrument.GetType().GetGenericTypeDefinition();
        kind = type == typeof(Histogram<>) ? MeterKind.Histogram : MeterExport.IsCounter(instrument) ? MeterKind.Counter : MeterKind.Gauge;
        // Why: a measurement of Counter or UpDownCounter is an increment; an observable one or a Gauge's is the value.
        delta = !observable && (type == typeof(Counter<>) || type == typeof(UpDownCounter<>));
        buckets = kind == MeterKind.Histogram ? BucketsOf(instrument) : [];
        lookup = cells.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Name { get; }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        Span<char> buffer = stackalloc char[256];
        var length = WriteLabels(tags, buffer);
        MeterCell cell;
        if (length < 0)
        {
            cell = Get(LabelsText(tags));
        }
        else if (!lookup.TryGetValue(buffer[..length], out cell!))
        {
            cell = Get(new string(buffer[..length]));
        }

        switch (kind)
        {
            case MeterKind.Histogram:
                cell.Observe(value, buckets);
                break;
            default:
                if (delta)
                {
                    cell.Add(value);
                }
                else
                {
                    cell.Set(value);
                }

                break;
        }
    }

    public void Write(StringBuilder text)
    {
        if (cells.IsEmpty)
        {
            return;
        }

        text.Append("# HELP ").Append(Name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(Name).Append(' ').Append(kind switch { MeterKind.Counter => "counter", MeterKind.Histogram => "histogram", _ => "gauge" }).Append('\n');
        foreach (var (labels, cell) in cells.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            if (kind != MeterKind.Histogram)
            {
                Sample(text, Name, labels, null, cell.Value);
                continue;
            }

            var (counts, sum) = cell.Snapshot();
            long cumulative = 0;
            for (var i = 0; i < buckets.Length; i++)
            {
                cumulative += counts[i];
                Sample(text, Name + "_bucket", labels, "le=\"" + Number(buckets[i]) + "\"", cumulative);
            }

            // Why the buckets' total rather than a count of its own: the three agree even mid-update.
            cumulative += counts[^1];
            Sample(text, Name + "_bucket", labels, "le=\"+Inf\"", cumulative);
            Sample(text, Name + "_sum", labels, null, sum);
            Sample(text, Name + "_count", labels, null, cumulative);
        }
    }

    private MeterCell Get(string labels) => cells.GetOrAdd(labels, _ => new MeterCell(kind == MeterKind.Histogram ? buckets.Length + 1 : 0));

    private static void Sample(StringBuilder text, string name, string labels, string? extra, double value)
    {
        text.Append(name);
        if (labels.Length > 0 || extra is not null)
        {
            text.Append('{').Append(labels);
            if (extra is not null)
            {
                text.Append(labels.Length > 0 ? "," : string.Empty).Append(extra);
            }

            text.Append('}');
        }

        text.Append(' ').Append(Number(value)).Append('\n');
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    private static double[] BucketsOf(Instrument instrument) => instrument switch
    {
        Histogram<double> { Advice.HistogramBucketBoundaries: { Count: > 0 } b } => [.. b],
        Histogram<float> { Advice.HistogramBucketBoundaries: { Count: > 0 } b } => [.. b.Select(x => (double)x)],
        Histogram<long> { Advice.HistogramBucketBoundaries: { Count: > 0 } b } => [.. b.Select(x => (double)x)],
        Histogram<int> { Advice.HistogramBucketBoundaries: { Count: > 0 } b } => [.. b.Select(x => (double)x)],
        _ => DefaultBuckets,
    };

    /// <summary>The label set as text (<c>a="x",b="y"</c>, names sorted) into <paramref name="buffer"/>; -1 when it does not fit.</summary>
    private static int WriteLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags, Span<char> buffer)
    {
        if (tags.Length > 16)
        {
            return -1;
        }

        Span<int> order = stackalloc int[tags.Length];
        Sort(tags, order);
        var length = 0;
        foreach (var index in order)
        {
            var (key, value) = tags[index];
            if (!Put(length == 0 ? string.Empty : ",", buffer, ref length) || !PutName(key, buffer, ref length) || !Put("=\"", buffer, ref length)
                || !PutValue(value, buffer, ref length) || !Put("\"", buffer, ref length))
            {
                return -1;
            }
        }

        return length;
    }

    private static string LabelsText(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var text = new StringBuilder();
        Span<int> order = tags.Length <= 64 ? stackalloc int[tags.Length] : new int[tags.Length];
        Sort(tags, order);
        foreach (var index in order)
        {
            text.Append(text.Length == 0 ? string.Empty : ",").Append(MeterExport.Sanitize(tags[index].Key)).Append("=\"")
                .Append(Text(tags[index].Value).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal))
                .Append('"');
        }

        return text.ToString();
    }

    private static void Sort(ReadOnlySpan<KeyValuePair<string, object?>> tags, Span<int> order)
    {
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
            for (var j = i; j > 0 && string.CompareOrdinal(tags[order[j - 1]].Key, tags[order[j]].Key) > 0; j--)
            {
                (order[j - 1], order[j]) = (order[j], order[j - 1]);
            }
        }
    }

    private static string Text(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static bool Put(string text, Span<char> buffer, ref int length)
    {
        if (length + text.Length > buffer.Length)
        {
            return false;
        }

        text.AsSpan().CopyTo(buffer[length..]);
        length += text.Length;
        return true;
    }

    private static bool PutName(string name, Span<char> buffer, ref int length)
    {
        if (length + name.Length > buffer.Length)
        {
            return false;
        }

        foreach (var c in name)
        {
            buffer[length++] = char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_';
        }

        return true;
    }

    /// <summary>A tag's value, escaped; a number is formatted in place (no string made). False when it does not fit.</summary>
    private static bool PutValue(object? value, Span<char> buffer, ref int length)
    {
        if (value is ISpanFormattable formattable)
        {
            if (!formattable.TryFormat(buffer[length..], out var written, default, CultureInfo.InvariantCulture)
                || buffer.Slice(length, written).IndexOfAny('"', '\\', '\n') >= 0)
            {
                return false;
            }

            length += written;
            return true;
        }

        return PutText(Text(value), buffer, ref length);
    }

    private static bool PutText(string value, Span<char> buffer, ref int length)
    {
        foreach (var c in value)
        {
            var escaped = c switch { '\\' => "\\\\", '"' => "\\\"", '\n' => "\\n", _ => null };
            if (escaped is not null ? !Put(escaped, buffer, ref length) : length >= buffer.Length)
            {
                return false;
            }

            if (escaped is null)
            {
                buffer[length++] = c;
            }
        }

        return true;
    }
}

/// <summary>One label set's value (or histogram counts), updated with interlocked operations.</summary>
internal sealed class MeterCell(int bucketCount)
{
    private readonly long[] counts = new long[bucketCount];
    private long bits;

    public double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref bits));

    public void Set(double value) => Interlocked.Exchange(ref bits, BitConverter.DoubleToInt64Bits(value));

    public void Add(double value)
    {
        var current = Interlocked.Read(ref bits);
        while (true)
        {
            var next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(current) + value);
            var seen = Interlocked.CompareExchange(ref bits, next, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    public void Observe(double value, double[] bounds)
    {
        var bucket = Array.BinarySearch(bounds, value);
        // Why: Prometheus buckets are "less than or equal"; a value between two bounds belongs to the upper one.
        bucket = bucket >= 0 ? bucket : ~bucket;
        Interlocked.Increment(ref counts[bucket]);
        Add(value);
    }

    public (long[] Counts, double Sum) Snapshot()
    {
        var copy = new long[counts.Length];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = Interlocked.Read(ref counts[i]);
        }

        return (copy, Value);
    }
}
