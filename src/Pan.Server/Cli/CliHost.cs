using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Server.Audit;
using Pan.Server.Errors;
using Pan.Server.Hosting;
using Pan.Server.Keys;

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
            throw new CliFailedException($"{action}: the database refused a write ({Describe(ex)}); nothing was changed.", ex);
        }
    }

    /// <summary>
    /// A database failure as the operator sees it: the exception's type and the SQL state (PostgreSQL) or error code
    /// (SQLite). Why no more: a database message may quote the values written (a phone in a unique violation).
    /// </summary>
    internal static string Describe(Exception ex)
    {
        var db = ex as DbException ?? ex.InnerException as DbException;
        var code = db switch
        {
            Microsoft.Data.Sqlite.SqliteException sqlite => ", SQLite error " + sqlite.SqliteErrorCode,
            { SqlState: { } state } => ", SQL state " + state,
            _ => string.Empty,
        };
        return (db ?? ex).GetType().Name + code;
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
        // Why these refusals become a message and exit code 1, not a stack trace: each is the operator's to fix (a
        // setting, the key-encryption key, the database's reach or migrations), and none leaves a change half-done
        // (every command's change commits with its audit line, CliContext.AuditedAsync). Anything else is a bug and
        // keeps its stack trace. Why the host logs no failure of its endpoint mapping (a setting read there, such as
        // Pan:Guests:BasePath): such a failure is caught here and shown as above, or goes on with its stack trace;
        // logged as well, it printed a stack trace besides the message.
        try
        {
            var app = PanApp.Build([.. settings], builder =>
            {
                // Why: the command's own output is what the operator reads; routine logs would only interleave with it.
                builder.Logging.AddFilter(level => level >= LogLevel.Warning);
                configure?.Invoke(builder);
            }, logStartupFailure: false);
            await using (app)
            {
                await using var scope = app.Services.CreateAsyncScope();
                return await command(new CliContext(scope.ServiceProvider, output, error));
            }
        }
        catch (CliFailedException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return Failed;
        }
        catch (OptionsValidationException ex)
        {
            // Why the validators' messages may be shown: they name the setting, never its value. A value its setting's
            // type cannot read comes here too, named by its key and the type (SettingValues).
            await error.WriteLineAsync("A setting is invalid: " + string.Join(" ", ex.Failures));
            return Failed;
        }
        catch (KeyEncryptionException ex)
        {
            // Names the stored key and the setting to configure (key ids only, never key material).
            await error.WriteLineAsync(ex.Message);
            return Failed;
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException || ErrorInterceptor.IsOutage(ex))
        {
            await error.WriteLineAsync(
                $"The database failed ({CliContext.Describe(ex)}). Check that it is reachable with the configured connection string and migrated (Pan.Server migrate). What the command had not committed was rolled back.");
            return Failed;
        }
    }

    public static async Task<int> UsageAsync(TextWriter error, string problem, string usage)
    {
        await error.WriteLineAsync(problem);
        await error.WriteLineAsync(usage);
        return Usage;
    }
}
