using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Server.Data;

namespace Pan.Server.Hosting;

/// <summary>
/// The server binary's command line. No command (or options only): run the server. <c>migrate</c>: apply
/// database migrations and exit. Later commands (apps, admins, members import) join here.
/// </summary>
public static class PanCommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var command = args.Length > 0 && !args[0].StartsWith('-') && !args[0].Contains('=') ? args[0] : null;
        var rest = command is null ? args : args[1..];
        switch (command)
        {
            case null:
                await PanApp.Build(rest).RunAsync();
                return 0;
            case "migrate":
                return await MigrateAsync(rest);
            case "help" or "--help":
                PrintUsage(Console.Out);
                return 0;
            default:
                await Console.Error.WriteLineAsync($"Unknown command '{command}'.");
                PrintUsage(Console.Error);
                return 2;
        }
    }

    private static async Task<int> MigrateAsync(string[] args)
    {
        var app = PanApp.Build(args);
        await using var scope = app.Services.CreateAsyncScope();
        var options = scope.ServiceProvider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Pan.Migrate");
        await DatabaseMigrator.MigrateAsync(scope.ServiceProvider.GetRequiredService<PanDbContext>(), logger, CancellationToken.None);
        await Console.Out.WriteLineAsync($"Database ({options.Provider}) is at the latest migration.");
        return 0;
    }

    private static void PrintUsage(TextWriter writer) => writer.WriteLine("""
        Usage: Pan.Server [command] [--Key=Value ...]
          (no command)   run the server
          migrate        apply database migrations and exit
          help           this text
        Settings come from appsettings.json, environment variables (Pan__Database__Provider=postgres)
        and --Key=Value options (--Pan:Database:Provider=postgres).
        """);
}
