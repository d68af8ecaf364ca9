using System.Globalization;
using Pan.Bench.Scenarios;

namespace Pan.Bench;

/// <summary>Parses <c>--name value</c> options into <see cref="BenchOptions"/>.</summary>
public static class CommandLine
{
    public const string Usage = """
        Usage: dotnet run -c Release --project bench/Pan.Bench -- [options]
          --db sqlite,postgres          databases (default sqlite)
          --members 10000,1000000       seeded member counts (default 10000)
          --scenarios a,b,...           floor,validate,me,read-object,phone-login,register,password-verify,hash (default all)
          --duration 10                 seconds measured per scenario (decimals allowed)
          --warmup 2                    seconds of warm-up per scenario
          --floor-probe 3               seconds of floor measured right before each scenario (0: use the run's floor)
          --concurrency 32              calls in flight (floor, validate, me, read-object)
          --flow-concurrency 16         flows in flight (phone-login, register)
          --password-concurrency 8      calls in flight (password-verify)
          --password-rounds 4           rounds of the paired password check (hash floor and password-verify
                                        in alternating windows; 0: none)
          --password-window 3           seconds measured per window of the paired password check
          --channels 2                  gRPC channels (HTTP/2 connections)
          --tokens 200                  members signed in through the API for validate/me
          --scale-members N             companion server's member count for the paired size comparison
                                        (default: the smallest --members when more than one; 0: none)
          --scale-rounds 4              rounds of the paired comparison (one window on each server per round)
          --scale-window 3              seconds measured per window of the paired comparison
          --scale-warmup 6              seconds of warm-up of the companion server per scenario
          --hash-memory-kib 19456       Argon2id memory (KiB) of the hash floor
          --hash-iterations 2           Argon2id passes of the hash floor
          --server PATH                 Pan.Server.dll (default: the Release build in this repository)
          --pg CONNSTRING               PostgreSQL admin connection (default 127.0.0.1:55432, user postgres)
          --pg-options "K=V;..."        extra keywords for the server's PostgreSQL connection string
          --out DIR                     results folder (default bench/results)
          --server-env KEY=VALUE        extra server setting as an environment variable (repeatable)
          --note TEXT                   a note for the report (e.g. "other builds were running")
        """;

    /// <summary>The options, or null (after writing why to <paramref name="error"/>) when the arguments are wrong.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args, TextWriter error)
    {
        var options = new BenchOptions();
        try
        {
            for (var i = 0; i < args.Count; i++)
            {
                var name = args[i];
                if (name is "-h" or "--help")
                {
                    error.WriteLine(Usage);
                    return null;
                }

                var value = i + 1 < args.Count ? args[++i] : throw new FormatException($"{name} needs a value");
                options = Apply(options, name, value);
            }
        }
        catch (FormatException ex)
        {
            error.WriteLine(ex.Message);
            error.WriteLine(Usage);
            return null;
        }

        return options;
    }

    private static BenchOptions Apply(BenchOptions o, string name, string value) => name switch
    {
        "--db" => o with { Databases = List(value, d => d is "sqlite" or "postgres" ? d : throw new FormatException($"unknown database '{d}'")) },
        "--members" => o with { MemberCounts = List(value, Int) },
        "--scenarios" => o with { Scenarios = List(value, s => ScenarioNames.All.Contains(s) ? s : throw new FormatException($"unknown scenario '{s}'")) },
        "--duration" => o with { Duration = Seconds(value) },
        "--warmup" => o with { Warmup = Seconds(value) },
        "--floor-probe" => o with { FloorProbe = Seconds(value) },
        "--concurrency" => o with { Concurrency = Int(value) },
        "--flow-concurrency" => o with { FlowConcurrency = Int(value) },
        "--password-concurrency" => o with { PasswordConcurrency = Int(value) },
        "--channels" => o with { Channels = Int(value) },
        "--tokens" => o with { Tokens = Int(value) },
        "--scale-members" => o with { ScaleMembers = value == "0" ? 0 : Int(value) },
        "--password-rounds" => o with { PasswordRounds = value == "0" ? 0 : Int(value) },
        "--password-window" => o with { PasswordWindow = Seconds(value) },
        "--scale-rounds" => o with { ScaleRounds = Int(value) },
        "--scale-window" => o with { ScaleWindow = Seconds(value) },
        "--scale-warmup" => o with { ScaleWarmup = Seconds(value) },
        "--hash-memory-kib" => o with { HashMemoryKiB = Int(value) },
        "--hash-iterations" => o with { HashIterations = Int(value) },
        "--server" => o with { ServerDll = value },
        "--pg" => o with { PostgresAdmin = value },
        "--out" => o with { OutputDirectory = value },
        "--pg-options" => o with { PostgresOptions = value },
        "--note" => o with { Note = value },
        "--server-env" when value.Split('=', 2) is [{ Length: > 0 } key, var setting] =>
            o with { ServerEnvironment = new Dictionary<string, string>(o.ServerEnvironment) { [key] = setting } },
        _ => throw new FormatException($"unknown option '{name}'"),
    };

    private static List<T> List<T>(string value, Func<string, T> parse) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse)];

    private static int Int(string value) =>
        int.TryParse(value.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new FormatException($"'{value}' is not a positive whole number");

    private static TimeSpan Seconds(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0
            ? TimeSpan.FromSeconds(s)
            : throw new FormatException($"'{value}' is not a number of seconds");
}
