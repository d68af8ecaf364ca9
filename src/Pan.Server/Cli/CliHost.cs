using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
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

    /// <summary>
    /// Runs <paramref name="body"/> and writes its audit line (the outcome the body returns) in one transaction, so a
    /// change never commits without its line: when the database refuses either, nothing of the change stays and the
    /// command ends with exit code 1 and a message (<see cref="CliFailedException"/>).
    /// </summary>
    public async Task<T> AuditedAsync<T>(string action, string target, Func<Task<(T Result, string Outcome)>> body)
    {
        var db = Services.GetRequiredService<PanDbContext>();
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var (result, outcome) = await body();
            await AuditAsync(action, target, outcome);
            await transaction.CommitAsync(CancellationToken.None);
            return result;
        }
        catch (Exception ex) when (ex is DbUpdateException or DbException)
        {
            // Why only the type and SQL state: a database message may quote the values written.
            var state = (ex as DbException ?? ex.InnerException as DbException)?.SqlState;
            throw new CliFailedException(
                $"{action}: the database refused a write ({ex.GetType().Name}{(state is null ? string.Empty : ", SQL state " + state)}); nothing was changed.", ex);
        }
    }
}

/// <summary>A command that failed cleanly (nothing half-done): its message is shown and the command exits with 1.</summary>
public sealed class CliFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Builds the Pan host (not started: no listener, no hosted service) for one operator command and runs it.</summary>
public static class CliHost
{
    /// <summary>Exit codes: 0 done, 1 the command failed, 2 bad usage, 3 done but some rows were bad (members import).</summary>
    public const int Ok = 0, Failed = 1, Usage = 2, PartlyDone = 3;

    /// <param name="configure">Further changes to the host (tests replace a service with one they watch).</param>
    public static async Task<int> RunAsync(
        IEnumerable<string> settings, TextWriter output, TextWriter error, Func<CliContext, Task<int>> command, Action<WebApplicationBuilder>? configure = null)
    {
        var app = PanApp.Build([.. settings], builder =>
        {
            // Why: the command's own output is what the operator reads; routine logs would only interleave with it.
            builder.Logging.AddFilter(level => level >= LogLevel.Warning);
            configure?.Invoke(builder);
        });
        await using (app)
        {
            await using var scope = app.Services.CreateAsyncScope();
            try
            {
                return await command(new CliContext(scope.ServiceProvider, output, error));
            }
            catch (CliFailedException ex)
            {
                await error.WriteLineAsync(ex.Message);
                return Failed;
            }
        }
    }

    public static async Task<int> UsageAsync(TextWriter error, string problem, string usage)
    {
        await error.WriteLineAsync(problem);
        await error.WriteLineAsync(usage);
        return Usage;
    }
}
