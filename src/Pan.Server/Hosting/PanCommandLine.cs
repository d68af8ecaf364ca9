using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Server.Apps;
using Pan.Server.Cli;
using Pan.Server.Data;

namespace Pan.Server.Hosting;

/// <summary>
/// The server binary's command line. No command (or options only): run the server. <c>migrate</c>: apply database
/// migrations and exit. <c>apps</c>, <c>admins</c>, <c>members import</c>: operator commands (in Cli/).
/// </summary>
public static class PanCommandLine
{
    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error);

    /// <summary>Runs a command writing to <paramref name="output"/> and <paramref name="error"/> (tests pass their own writers).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var command = args.Length > 0 && !args[0].StartsWith('-') && !args[0].Contains('=') ? args[0] : null;
        var rest = command is null ? args : args[1..];
        switch (command)
        {
            case null:
                await PanApp.Build(rest).RunAsync();
                return 0;
            case "migrate":
                return await MigrateAsync(rest, output);
            case "apps":
                return await AppsCommand.RunAsync(rest, output, error);
            case "clients":
                return await ClientsCommand.RunAsync(rest, output, error);
            case "admins":
                return await AdminsCommand.RunAsync(rest, output, error);
            case "members":
                return await MembersCommand.RunAsync(rest, output, error);
            case "help" or "--help":
                PrintUsage(output);
                return 0;
            default:
                await error.WriteLineAsync($"Unknown command '{command}'.");
                PrintUsage(error);
                return 2;
        }
    }

    private static async Task<int> MigrateAsync(string[] args, TextWriter output)
    {
        var app = PanApp.Build(args);
        await using var scope = app.Services.CreateAsyncScope();
        var options = scope.ServiceProvider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Pan.Migrate");
        await DatabaseMigrator.MigrateAsync(scope.ServiceProvider.GetRequiredService<PanDbContext>(), logger, CancellationToken.None);
        await scope.ServiceProvider.GetRequiredService<AppAdministration>().EnsureSeededAsync(CancellationToken.None);
        await output.WriteLineAsync($"Database ({options.Provider}) is at the latest migration.");
        return 0;
    }

    private static void PrintUsage(TextWriter writer) => writer.WriteLine($"""
        Usage: Pan.Server [command] [--Key=Value ...]
          (no command)   run the server
          migrate        apply database migrations (and seed the app registry) and exit
          apps           the app registry: list, add, update, rotate-secret, guest-settings, events
          clients        OAuth / OpenID Connect clients: list, add, remove, rotate-keys
          admins         the admin allow-list: list, add, remove
          members import import legacy members from a .jsonl or .csv file
          help           this text
        Settings come from appsettings.json, environment variables (Pan__Database__Provider=postgres)
        and --Key=Value options (--Pan:Database:Provider=postgres).

        {AppsCommand.Usage}

        {ClientsCommand.Usage}

        {AdminsCommand.Usage}

        {MembersCommand.Usage}
        """);
}
