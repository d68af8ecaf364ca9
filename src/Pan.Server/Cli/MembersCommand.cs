using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using System.Globalization;
using Pan.Server.Cli.Import;
using Spectre.Console;

namespace Pan.Server.Cli;

/// <summary>
/// <c>members import</c>: brings legacy members in from a JSON Lines or CSV file (see <see cref="MemberImporter"/>);
/// <c>members suspend</c>, <c>restore</c> and <c>show</c>: see <see cref="MemberStandingCommand"/>.
/// </summary>
public static class MembersCommand
{
    private const string Action = "cli.members.import";

    public const string Usage = """
        Usage: Pan.Server members import <file.jsonl|file.csv> [--batch-size 1000]
        Fields: legacy_id, migration_status (2 = OLD_JKF, 3 = OLD_1128), display_name, username, email,
                phone (E.164, or national with country), country, password_hash, created (ISO 8601 or Unix seconds).
        Safe to re-run: rows already imported are skipped. Bad rows are listed by line and skipped.
        Exit code 0: all rows imported or already there; 3: done, but some rows were bad; 1: stopped by a
        database error (that batch rolled back, earlier ones kept): run it again.
        """ + "\n" + MemberStandingCommand.Usage;

    /// <summary>The options that take a value (<c>--name X</c>); the others are flags or not this command's.</summary>
    public static readonly string[] ValueOptions = ["batch-size", "until", "for"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parsed = CliArguments.Parse(args, ValueOptions);
        if (parsed.Problem is not null)
        {
            return await CliHost.UsageAsync(error, parsed.Problem, Usage);
        }

        if (parsed.Positional(0) is "suspend" or "restore" or "show" && parsed.Option("batch-size") is null)
        {
            return await MemberStandingCommand.RunAsync(parsed.Positional(0)!, parsed, output, error);
        }

        if (parsed.Option("until") is not null || parsed.Option("for") is not null)
        {
            return await CliHost.UsageAsync(error, "--until and --for belong to members suspend.", Usage);
        }

        if (parsed.Positional(0) != "import")
        {
            return await CliHost.UsageAsync(error, parsed.Positional(0) is null ? "members needs a command." : $"Unknown members command '{parsed.Positional(0)}'.", Usage);
        }

        var file = parsed.Positional(1);
        if (file is null || !LegacyFileReader.IsSupported(file))
        {
            return await CliHost.UsageAsync(error, "members import needs a .jsonl, .ndjson or .csv file.", Usage);
        }

        if (!File.Exists(file))
        {
            await error.WriteLineAsync($"{file}: no such file.");
            return CliHost.Failed;
        }

        var batchSize = MemberImporter.DefaultBatchSize;
        if (parsed.Option("batch-size") is { } size && !(int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out batchSize) && batchSize is >= 1 and <= 100_000))
        {
            return await CliHost.UsageAsync(error, "--batch-size must be 1 to 100000.", Usage);
        }

        return await CliHost.RunAsync(parsed.Settings, output, error, c => ImportAsync(c, file, batchSize));
    }

    private static async Task<int> ImportAsync(CliContext cli, string file, int batchSize)
    {
        var importer = cli.Services.GetRequiredService<MemberImporter>();
        var target = "file:" + Path.GetFileName(file);
        var total = await LegacyFileReader.CountRowsAsync(file, CancellationToken.None);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(cli.Output) });
        ImportReport? report = null;
        try
        {
            await console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"Importing {Path.GetFileName(file)}", maxValue: Math.Max(total, 1));
                    // Why each batch's line in its own transaction: a batch commits only with its audit line.
                    report = await importer.ImportAsync(file, batchSize, done => task.Value = done,
                        (outcome, _) => cli.AuditAsync(Action, target, outcome),
                        CancellationToken.None);
                    task.Value = task.MaxValue;
                });
        }
        catch (Exception ex) when (ex is DbUpdateException or DbException)
        {
            // Why a message and exit code, not the exception: a refused batch is rolled back whole and the earlier ones
            // are kept, so the operator's next step is to fix the cause and run the same command again. Only the type
            // and SQL state are shown: a database message may quote the row's values (a phone in a unique violation).
            var state = (ex as DbException ?? ex.InnerException as DbException)?.SqlState;
            await cli.Error.WriteLineAsync(
                $"members import stopped: the database refused a write ({ex.GetType().Name}{(state is null ? string.Empty : ", SQL state " + state)}). " +
                "The batch it was in was rolled back; earlier batches are kept. Fix the cause and run the same command again: rows already imported are skipped.");
            await AuditRunAsync(cli, target, "error: " + ex.GetType().Name);
            return CliHost.Failed;
        }
        catch (Exception ex)
        {
            await AuditRunAsync(cli, target, "error: " + ex.GetType().Name);
            throw;
        }

        foreach (var issue in report!.Renamed)
        {
            await cli.Output.WriteLineAsync($"line {issue.Line}: renamed: {issue.Message}");
        }

        foreach (var issue in report.BadRows)
        {
            await cli.Output.WriteLineAsync($"line {issue.Line}: bad row: {issue.Message}");
        }

        var summary = string.Create(CultureInfo.InvariantCulture,
            $"read {report.Read}, imported {report.Imported}, already imported {report.AlreadyImported}, bad {report.BadRows.Count}, renamed {report.Renamed.Count}");
        await AuditRunAsync(cli, target, "ok: " + summary);
        await cli.Output.WriteLineAsync("Done: " + summary + ".");
        return report.BadRows.Count == 0 ? CliHost.Ok : CliHost.PartlyDone;
    }

    /// <summary>
    /// The line of the whole run (its summary, or how it stopped). Why a refusal here is only reported: every batch that
    /// committed did so with its own line, and a stopped run's batch was rolled back, so this line records no change of
    /// its own; the database may refuse it for the same reason it refused the batch, and the operator's message comes first.
    /// </summary>
    private static async Task AuditRunAsync(CliContext cli, string target, string outcome)
    {
        try
        {
            await cli.AuditAsync(Action, target, outcome);
        }
        catch (Exception ex) when (ex is DbUpdateException or DbException)
        {
            await cli.Error.WriteLineAsync($"The audit line of this run could not be written ({ex.GetType().Name}); each imported batch has its own.");
        }
    }
}
