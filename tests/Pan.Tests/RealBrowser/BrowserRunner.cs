using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace Pan.Tests.RealBrowser;

/// <summary>What tests/browser/walk.mjs reports: whether it reached its goal, the URL it ended on, the pages it went through.</summary>
public sealed record WalkResult(bool Ok, string? FinalUrl, IReadOnlyList<string> Visited, string? Check, string? Error, string Output);

/// <summary>
/// Runs the Node scripts of tests/browser (playwright-core driving Debian's Chromium, headless). Installs the pinned
/// npm packages once per test run (npm ci, skipped while node_modules matches package-lock.json). A missing Chromium
/// or Node fails the test; nothing is skipped.
/// </summary>
public static class BrowserRunner
{
    public const string Chromium = "/usr/bin/chromium";

    private static readonly Lazy<Task> Install = new(InstallAsync);

    public static string RepoRoot { get; } = FindRoot();

    public static string ScriptDirectory => Path.Combine(RepoRoot, "tests", "browser");

    /// <summary>artifacts/screenshots (test.sh keeps it; it only clears artifacts/test-results).</summary>
    public static string Screenshots => Path.Combine(RepoRoot, "artifacts", "screenshots");

    /// <summary>Runs walk.mjs with <paramref name="arguments"/> (serialised to JSON) and returns its report.</summary>
    public static async Task<WalkResult> WalkAsync(object arguments, TimeSpan? timeout = null)
    {
        var (root, output) = await RunScriptAsync("walk.mjs", arguments, timeout);
        string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        return new WalkResult(
            root.GetProperty("ok").GetBoolean(),
            Text("finalUrl"),
            [.. root.GetProperty("visited").EnumerateArray().Select(v => v.GetString()!)],
            Text("check"),
            Text("error"),
            output);
    }

    /// <summary>
    /// Runs the script <paramref name="script"/> of tests/browser with <paramref name="arguments"/> (serialised to JSON);
    /// returns the last JSON line it printed (its report) and everything it wrote.
    /// </summary>
    public static async Task<(JsonElement Report, string Output)> RunScriptAsync(string script, object arguments, TimeSpan? timeout = null)
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"Chromium is not installed at {Chromium}; run tools/ensure-packages.sh (Debian package chromium).");
        }

        await Install.Value;
        var (exit, output, errors) = await RunAsync("node", [script, JsonSerializer.Serialize(arguments)], timeout ?? TimeSpan.FromMinutes(2));
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        if (last is null)
        {
            throw new Xunit.Sdk.XunitException($"{script} exited with {exit} and no report.\nstdout:\n{output}\nstderr:\n{errors}");
        }

        using var report = JsonDocument.Parse(last);
        return (report.RootElement.Clone(), $"stdout:\n{output}\nstderr:\n{errors}");
    }

    private static async Task InstallAsync()
    {
        var lockFile = Path.Combine(ScriptDirectory, "package-lock.json");
        var stamp = Path.Combine(ScriptDirectory, "node_modules", ".pan-package-lock.sha256");
        var hash = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(lockFile)));
        if (File.Exists(stamp) && (await File.ReadAllTextAsync(stamp)).Trim() == hash)
        {
            return;
        }

        // Why --ignore-scripts: playwright-core has no install step worth running, and no browser is ever downloaded.
        var (exit, output, errors) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"], TimeSpan.FromMinutes(5));
        if (exit != 0)
        {
            throw new InvalidOperationException($"npm ci in tests/browser failed ({exit}):\n{output}\n{errors}");
        }

        await File.WriteAllTextAsync(stamp, hash);
    }

    private static async Task<(int Exit, string Output, string Errors)> RunAsync(string program, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = ScriptDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var expired = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(expired.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments.Take(1))} ran longer than {timeout}:\n{await output}\n{await errors}");
        }

        return (process.ExitCode, await output, await errors);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Pan.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Pan.slnx not found above " + AppContext.BaseDirectory);
    }
}
