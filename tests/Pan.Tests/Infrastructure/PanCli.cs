using Microsoft.AspNetCore.Builder;
using Pan.Server.Cli;
using Pan.Server.Hosting;

namespace Pan.Tests.Infrastructure;

/// <summary>What an operator command printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error);

/// <summary>Runs the server binary's command line in-process (PanCommandLine.RunAsync), on a test database.</summary>
public static class PanCli
{
    public static async Task<CliRun> RunAsync(ITestDatabase database, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await PanCommandLine.RunAsync([.. args, .. Settings(database)], output, error);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// Runs one command's body (its arguments already read) in the host the command line builds, changed by
    /// <paramref name="configure"/>: how a test puts a service it watches into an operator command.
    /// </summary>
    public static async Task<CliRun> RunAsync(ITestDatabase database, Action<WebApplicationBuilder> configure, Func<CliContext, Task<int>> command)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliHost.RunAsync(Settings(database), output, error, command, configure);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>The secret an <c>apps add</c> or <c>apps rotate-secret</c> printed (its last line).</summary>
    public static string Secret(CliRun run) =>
        run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

    private static string[] Settings(ITestDatabase database) =>
    [
        "--environment=Testing",
        $"--ConnectionStrings:Pan={database.ConnectionString}",
        $"--Pan:Database:Provider={database.Provider}",
        "--Pan:Hashids:Salt=pan-tests-salt",
        "--Logging:Console:FormatterName=simple",
    ];

    /// <summary>The command refused with exit 1 and <paramref name="message"/>, and printed no stack trace.</summary>
    public static void AssertRefused(CliRun run, string message)
    {
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}: {run.Error}");
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    /// <summary>Runs a command line; an exception out of it (what the operator would see as a stack trace) is exit -1 with the exception.</summary>
    public static async Task<CliRun> RunCaughtAsync(ITestDatabase database, params string[] args)
    {
        try
        {
            return await RunAsync(database, args);
        }
        catch (Exception ex)
        {
            return new CliRun(-1, string.Empty, ex.ToString());
        }
    }
}
