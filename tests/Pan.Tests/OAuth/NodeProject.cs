using System.Diagnostics;

namespace Pan.Tests.OAuth;

/// <summary>
/// tests/oidc-client, a small Node project pinning openid-client (package-lock.json committed). The first test that
/// needs it runs <c>npm ci</c>; later runs skip it while node_modules is newer than the lock file.
/// </summary>
public static class NodeProject
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool installed;

    public static string Folder { get; } = Path.Combine(RepositoryRoot(), "tests", "oidc-client");

    public static async Task EnsureInstalledAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (installed)
            {
                return;
            }

            var stamp = Path.Combine(Folder, "node_modules", ".package-lock.json");
            if (!File.Exists(stamp) || File.GetLastWriteTimeUtc(stamp) < File.GetLastWriteTimeUtc(Path.Combine(Folder, "package-lock.json")))
            {
                var (exit, output, error) = await RunAsync("npm", TimeSpan.FromMinutes(5), "ci", "--no-audit", "--no-fund");
                if (exit != 0)
                {
                    throw new InvalidOperationException($"npm ci failed ({exit}): {error}{output}");
                }
            }

            installed = true;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Runs <paramref name="file"/> in the project folder; returns its exit code, stdout and stderr.</summary>
    public static async Task<(int Exit, string Output, string Error)> RunAsync(string file, TimeSpan limit, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {limit}.");
        }

        return (process.ExitCode, await output, await error);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pan.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Pan.slnx not found above the test binaries.");
    }
}
