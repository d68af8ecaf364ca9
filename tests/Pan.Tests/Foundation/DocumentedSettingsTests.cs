using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Pan.Server.Hosting;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// Every <c>Pan:</c> key README documents is one the server accepts (SettingKeys), so refusing keys no setting has
/// never refuses a documented one: the settings tables' keys (with their <c>/ Other</c> alternatives), and every other
/// key README names in code spans, <c>{A,B}</c> alternatives and <c>&lt;name&gt;</c> entries expanded.
/// </summary>
public sealed class DocumentedSettingsTests
{
    [Fact]
    public async Task EveryPanKeyReadmeDocuments_IsASetting()
    {
        var keys = DocumentedKeys(File.ReadAllText(ReadmePath()));
        Assert.True(keys.Count > 150, $"only {keys.Count} keys found in README");

        var path = Path.Combine(Path.GetTempPath(), $"pan-documented-{Guid.NewGuid():N}.db");
        var app = StartupProbe.Build("Production", StartupProbe.Production($"Data Source={path}"), new Dictionary<string, string?>());
        await using (app)
        {
            var known = app.Services.GetRequiredService<SettingKeys>();
            var unknown = keys.Where(k => !known.IsKnown(k, orSection: true)).ToList();
            Assert.True(unknown.Count == 0, "README documents keys no setting has: " + string.Join(", ", unknown));
        }
    }

    /// <summary>The check is not vacuous: a misspelled key is not a setting.</summary>
    [Fact]
    public async Task AMisspelledKey_IsNotASetting()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-documented-{Guid.NewGuid():N}.db");
        var app = StartupProbe.Build("Production", StartupProbe.Production($"Data Source={path}"), new Dictionary<string, string?>());
        await using (app)
        {
            var known = app.Services.GetRequiredService<SettingKeys>();
            Assert.False(known.IsKnown("Pan:Sms:Provder"));
            Assert.True(known.IsKnown("Pan:Sms:Provider"));
        }
    }

    private static readonly Regex Span = new("`(?<key>Pan:[^`]*)`", RegexOptions.CultureInvariant);

    private static List<string> DocumentedKeys(string readme)
    {
        var keys = new List<string>();
        foreach (var line in readme.Split('\n'))
        {
            // A settings table's first cell: `Pan:A:B:C` / `D` / `E:F` (an alternative replaces as many trailing parts).
            if (line.StartsWith("| `Pan:", StringComparison.Ordinal))
            {
                var cell = line.Split('|')[1];
                var spans = Regex.Matches(cell, "`([^`]*)`").Select(m => m.Groups[1].Value).ToList();
                var first = spans[0].Split(':');
                foreach (var alternative in spans.Skip(1))
                {
                    var parts = alternative.Split(':');
                    keys.Add(string.Join(':', first[..^parts.Length].Concat(parts)));
                }
            }

            keys.AddRange(Span.Matches(line).Select(m => m.Groups["key"].Value));
        }

        return keys
            .Select(k => k.Split('=', ' ')[0])
            .Where(k => !k.Contains('*', StringComparison.Ordinal) && !k.EndsWith(':'))
            .SelectMany(Expand)
            .Select(k => Regex.Replace(k, "<[^>]*>", "entry"))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary><c>A:{B,C}:D</c> as A:B:D and A:C:D.</summary>
    private static IEnumerable<string> Expand(string key)
    {
        var match = Regex.Match(key, "\\{([^}]*)\\}");
        return match.Success
            ? match.Groups[1].Value.Split(',').SelectMany(a => Expand(key[..match.Index] + a + key[(match.Index + match.Length)..]))
            : [key];
    }

    private static string ReadmePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "README.md");
            if (File.Exists(candidate) && Directory.Exists(Path.Combine(dir.FullName, "src", "Pan.Server")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("README.md above " + AppContext.BaseDirectory);
    }
}
