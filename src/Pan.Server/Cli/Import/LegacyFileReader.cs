using System.Text;
using System.Text.Json;

namespace Pan.Server.Cli.Import;

/// <summary>One data row of an import file: its line number and its fields by name (a null value is an absent field).</summary>
public sealed record LegacyRecord(int Line, IReadOnlyDictionary<string, string?> Fields, string? Problem);

/// <summary>
/// Reads an import file row by row: JSON Lines (<c>.jsonl</c>/<c>.ndjson</c>: one JSON object per line; strings,
/// numbers and booleans accepted as values) or CSV (<c>.csv</c>: RFC 4180 with a header row naming the fields, quoted
/// fields may hold commas and doubled quotes but not line breaks). Blank lines are skipped. A row that cannot be read
/// comes back with <see cref="LegacyRecord.Problem"/> set, and reading goes on.
/// </summary>
public static class LegacyFileReader
{
    public static bool IsSupported(string path) => FormatOf(path) is not null;

    public static async IAsyncEnumerable<LegacyRecord> ReadAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var csv = FormatOf(path) == "csv";
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        string[]? header = null;
        var number = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (!csv)
            {
                yield return ParseJson(number, line);
                continue;
            }

            var cells = SplitCsv(line);
            if (header is null)
            {
                header = cells is null ? [] : [.. cells.Select(c => c.Trim().ToLowerInvariant())];
                continue;
            }

            yield return cells is null ? new LegacyRecord(number, Empty, "unterminated quoted field")
                : cells.Count != header.Length ? new LegacyRecord(number, Empty, $"has {cells.Count} fields, the header has {header.Length}")
                : new LegacyRecord(number, header.Zip(cells).ToDictionary(p => p.First, p => (string?)(p.Second.Length == 0 ? null : p.Second)), null);
        }
    }

    /// <summary>Counts the data rows (for the progress bar) without parsing them.</summary>
    public static async Task<int> CountRowsAsync(string path, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var rows = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            rows += string.IsNullOrWhiteSpace(line) ? 0 : 1;
        }

        return FormatOf(path) == "csv" ? Math.Max(0, rows - 1) : rows;
    }

    private static readonly Dictionary<string, string?> Empty = [];

    private static string? FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".jsonl" or ".ndjson" => "jsonl",
        ".csv" => "csv",
        _ => null,
    };

    private static LegacyRecord ParseJson(int number, string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new LegacyRecord(number, Empty, "is not a JSON object");
            }

            var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var property in json.RootElement.EnumerateObject())
            {
                fields[property.Name.ToLowerInvariant()] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString() is { Length: > 0 } s ? s : null,
                    JsonValueKind.Number => property.Value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Null => null,
                    _ => throw new FormatException($"{property.Name} must be a string, number or boolean"),
                };
            }

            return new LegacyRecord(number, fields, null);
        }
        catch (JsonException)
        {
            return new LegacyRecord(number, Empty, "is not valid JSON");
        }
        catch (FormatException ex)
        {
            return new LegacyRecord(number, Empty, ex.Message);
        }
    }

    /// <summary>The fields of one CSV line, or null when a quoted field does not end on the line.</summary>
    private static List<string>? SplitCsv(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"' && cell.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        if (quoted)
        {
            return null;
        }

        cells.Add(cell.ToString());
        return cells;
    }
}
