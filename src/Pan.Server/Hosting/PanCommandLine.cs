using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Server.Apps;
using Pan.Server.Cli;
using Pan.Server.Data;

namespace Pan.Server.Hosting;

/// <summary>
/// The server binary's command line. No command (or options only): run the server; <c>help</c>, <c>--help</c>,
/// <c>-h</c>, <c>-?</c>: print the usage (after a command: that command's usage). <c>migrate</c>: apply database
/// migrations and exit. <c>apps</c>, <c>admins</c>, <c>members import</c>, <c>phones</c>: operator commands (in Cli/).
/// </summary>
public static class PanCommandLine
{
    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error);

    /// <summary>Runs a command writing to <paramref name="output"/> and <paramref name="error"/> (tests pass their own writers).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var command = args.Length > 0 && (IsHelpOption(args[0]) || (!args[0].StartsWith('-') && !args[0].Contains('='))) ? args[0] : null;
        var rest = command is null ? args : args[1..];
        if (command is not null && CommandUsage(command) is { } usage && CliArguments.AsksForHelp(rest, ValueOptions(command, rest)))
        {
            // Why before the command reads its arguments: to it, --help is an option it does not know (exit 2). Why only
            // where no option's value stands: `--reason -h` gives the reason "-h", and an operator's value must not turn
            // the command into a usage text that does nothing.
            await output.WriteLineAsync(usage);
            return 0;
        }

        switch (command)
        {
            case null:
                return await ServeAsync(rest);
            case "migrate":
                return await MigrateAsync(rest, output, error);
            case "apps":
                return await AppsCommand.RunAsync(rest, output, error);
            case "clients":
                return await ClientsCommand.RunAsync(rest, output, error);
            case "admins":
                return await AdminsCommand.RunAsync(rest, output, error);
            case "members":
                return await MembersCommand.RunAsync(rest, output, error);
            case "phones":
                return await PhonesCommand.RunAsync(rest, output, error);
            case "help" or "--help" or "-h" or "-?":
                PrintUsage(output);
                return 0;
            default:
                await error.WriteLineAsync($"Unknown command '{command}'.");
                PrintUsage(error);
                return 2;
        }
    }

    /// <summary>
    /// Runs the server until it stops. A server that cannot start ends with exit code 1, its failure logged once at
    /// Error by then: a setting read while the endpoints are mapped by <see cref="PanApp.Build"/>, anything that fails
    /// the start (a setting checked at start-up, migrations, an unreachable database, a port another process holds) by
    /// the host ("Hosting failed to start"). Why not rethrown: the runtime would print it again as an unhandled
    /// exception, stack trace and all, and abort the process.
    /// </summary>
    private static async Task<int> ServeAsync(string[] args)
    {
        WebApplication app;
        try
        {
            app = PanApp.Build(args);
        }
        catch (Exception ex) when (RefusedSettings.Failures(ex) is not null)
        {
            return 1;
        }

        await using (app)
        {
            try
            {
                await app.StartAsync();
            }
            catch (Exception)
            {
                return 1;
            }

            await app.WaitForShutdownAsync();
        }

        return 0;
    }

    /// <summary>The usage of a command group (<c>apps</c>, <c>members</c>…), printed for its <c>--help</c>; null for no such group.</summary>
    private static string? CommandUsage(string command) => command switch
    {
        "migrate" => MigrateUsage,
        "apps" => AppsCommand.Usage,
        "clients" => ClientsCommand.Usage,
        "admins" => AdminsCommand.Usage,
        "members" => MembersCommand.Usage,
        "phones" => PhonesCommand.Usage,
        _ => null,
    };

    /// <summary>The options of <paramref name="command"/> (for <c>apps</c>, of its verb in <paramref name="rest"/>) that take a value.</summary>
    private static string[] ValueOptions(string command, string[] rest) => command switch
    {
        "apps" when rest is ["guest-settings", ..] => GuestSettingsCommand.ValueOptions,
        "apps" when rest is ["events", ..] => AppEventsCommand.ValueOptions,
        "apps" => AppsCommand.ValueOptions,
        "clients" => ClientsCommand.ValueOptions,
        "admins" => AdminsCommand.ValueOptions,
        "members" => MembersCommand.ValueOptions,
        "phones" => PhonesCommand.ValueOptions,
        _ => [],
    };

    private const string MigrateUsage = """
        Usage: Pan.Server migrate [--Key=Value ...]
        Applies the database's pending migrations (and seeds the app registry), then exits: 0 done, 1 failed.
        """;

    /// <summary>Whether <paramref name="arg"/> asks for the usage; any other leading option is a setting of the server.</summary>
    private static bool IsHelpOption(string arg) => CliArguments.IsHelpWord(arg);

    /// <summary>
    /// Runs in the operator commands' host (<see cref="CliHost"/>), so a bad setting, an unreachable database or a
    /// connection string the provider cannot read ends in a message and exit code 1, never a stack trace.
    /// </summary>
    private static Task<int> MigrateAsync(string[] args, TextWriter output, TextWriter error) =>
        CliHost.RunAsync(args, output, error, async context =>
        {
            var services = context.Services;
            var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Pan.Migrate");
            var applied = await DatabaseMigrator.MigrateAsync(services.GetRequiredService<PanDbContext>(), logger, CancellationToken.None);
            await services.GetRequiredService<AppAdministration>().EnsureSeededAsync(CancellationToken.None);
            if (applied.Count > 0)
            {
                await output.WriteLineAsync($"Applied {applied.Count} migration(s): {string.Join(", ", applied)}");
            }

            await output.WriteLineAsync($"Database ({options.Provider}) is at the latest migration.");
            return CliHost.Ok;
        });

    private static void PrintUsage(TextWriter writer) => writer.WriteLine($"""
        Usage: Pan.Server [command] [--Key=Value ...]
          (no command)   run the server
          migrate        apply database migrations (and seed the app registry) and exit
          apps           the app registry: list, add, update, rotate-secret, guest-settings, events
          clients        OAuth / OpenID Connect clients: list, add, remove, rotate-keys
          admins         the admin allow-list: list, add, remove
          members        import legacy members; suspend, restore or show a member
          phones         block, unblock or list blocked phone numbers
          help           this text (<command> --help: that command's usage)
        Settings come from appsettings.json, environment variables (Pan__Database__Provider=postgres)
        and --Key=Value options (--Pan:Database:Provider=postgres).

        {AppsCommand.Usage}

        {ClientsCommand.Usage}

        {AdminsCommand.Usage}

        {MembersCommand.Usage}

        {PhonesCommand.Usage}
        """);
}
