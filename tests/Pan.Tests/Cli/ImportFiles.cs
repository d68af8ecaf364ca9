using System.Globalization;
using System.Text;

namespace Pan.Tests.Cli;

/// <summary>Import files for the <c>members import</c> tests, written to a temporary folder that is deleted on dispose.</summary>
public sealed class ImportFiles : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pan-import-").FullName;

    /// <summary>Rows for the performance test: from <c>PAN_IMPORT_ROWS</c>, 100 000 by default.</summary>
    public static int GeneratedRowCount =>
        int.TryParse(Environment.GetEnvironmentVariable("PAN_IMPORT_ROWS"), NumberStyles.None, CultureInfo.InvariantCulture, out var rows) && rows > 0 ? rows : 100_000;

    public string Write(string name, IEnumerable<string> lines)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllLines(path, lines, new UTF8Encoding(false));
        return path;
    }

    /// <summary>
    /// <paramref name="rows"/> valid legacy members: 70% with a phone of their own, 20% in pairs sharing a phone, 10%
    /// without a phone; every tenth from the 1128 store; unique names, usernames and emails. Accounts: 0.9 × rows.
    /// </summary>
    public string Generate(int rows)
    {
        var path = Path.Combine(folder, "generated.jsonl");
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        for (var i = 0; i < rows; i++)
        {
            var phone = (i % 10) switch
            {
                < 7 => $"\"phone\":\"+8869{10_000_000 + i}\",",
                7 or 8 => $"\"phone\":\"09{20_000_000 + (i / 10)}\",\"country\":\"TW\",",
                _ => string.Empty,
            };
            var status = i % 10 == 3 ? 3 : 2;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"legacy_id\":{i},\"migration_status\":{status},\"display_name\":\"gen{i}\",\"username\":\"user{i}\",\"email\":\"user{i}@example.com\",{phone}\"created\":{1_400_000_000 + i}}}"));
        }

        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans the temp folder.
        }
    }
}
