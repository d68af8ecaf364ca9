using Pan.Server.Audit;
using Pan.Server.Hosting;

namespace Pan.Server.Cli;

/// <summary>What a command gets: the host's services (one scope), where to write, and the audit actor.</summary>
public sealed record CliContext(IServiceProvider Services, TextWriter Output, TextWriter Error)
{
    /// <summary>The audit actor of operator commands: "cli:" and the operating-system user.</summary>
    public static string Actor => "cli:" + Environment.UserName;

    public Task AuditAsync(string action, string target, string outcome) =>
        Services.GetRequiredService<AuditLog>().WriteAsync(Actor, action, target, outcome, CancellationToken.None);
}

/// <summary>Builds the Pan host (not started: no listener, no hosted service) for one operator command and runs it.</summary>
public static class CliHost
{
    /// <summary>Exit codes: 0 done, 1 the command failed, 2 bad usage, 3 done but some rows were bad (members import).</summary>
    public const int Ok = 0, Failed = 1, Usage = 2, PartlyDone = 3;

    public static async Task<int> RunAsync(IEnumerable<string> settings, TextWriter output, TextWriter error, Func<CliContext, Task<int>> command)
    {
        var app = PanApp.Build([.. settings], builder =>
            // Why: the command's own output is what the operator reads; routine logs would only interleave with it.
            builder.Logging.AddFilter(level => level >= LogLevel.Warning));
        await using (app)
        {
            await using var scope = app.Services.CreateAsyncScope();
            return await command(new CliContext(scope.ServiceProvider, output, error));
        }
    }

    public static async Task<int> UsageAsync(TextWriter error, string problem, string usage)
    {
        await error.WriteLineAsync(problem);
        await error.WriteLineAsync(usage);
        return Usage;
    }
}
