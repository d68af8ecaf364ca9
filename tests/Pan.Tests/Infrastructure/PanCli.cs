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
        string[] settings =
        [
            "--environment=Testing",
            $"--ConnectionStrings:Pan={database.ConnectionString}",
            $"--Pan:Database:Provider={database.Provider}",
            "--Pan:Hashids:Salt=pan-tests-salt",
            "--Logging:Console:FormatterName=simple",
        ];
        var code = await PanCommandLine.RunAsync([.. args, .. settings], output, error);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>The secret an <c>apps add</c> or <c>apps rotate-secret</c> printed (its last line).</summary>
    public static string Secret(CliRun run) =>
        run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
}
