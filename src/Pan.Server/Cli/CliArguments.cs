namespace Pan.Server.Cli;

/// <summary>
/// A command's arguments, split three ways: positionals (<c>add jkforum</c>), the command's own options
/// (<c>--name X</c> or <c>--name=X</c>) and settings for the host (any other <c>--Key=Value</c>, e.g.
/// <c>--Pan:Database:Provider=postgres</c>), which go to the configuration.
/// </summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, List<string>> options = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public List<string> Settings { get; } = [];

    /// <summary>Set when the arguments cannot be read (an unknown option, or an option without its value).</summary>
    public string? Problem { get; private set; }

    public string? Option(string name) => options.TryGetValue(name, out var values) ? values[^1] : null;

    /// <summary>Every value of an option given several times (<c>--scope openid --scope email</c>), in order.</summary>
    public IReadOnlyList<string> Options(string name) => options.TryGetValue(name, out var values) ? values : [];

    public string? Positional(int index) => index < Positionals.Count ? Positionals[index] : null;

    public static CliArguments Parse(IReadOnlyList<string> args, params string[] knownOptions)
    {
        var result = new CliArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                result.Positionals.Add(arg);
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg[2..] : arg[2..equals];
            if (knownOptions.Contains(name, StringComparer.Ordinal))
            {
                if (equals >= 0)
                {
                    result.Add(name, arg[(equals + 1)..]);
                }
                else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    result.Add(name, args[++i]);
                }
                else
                {
                    result.Problem ??= $"--{name} needs a value.";
                }
            }
            else if (equals > 2)
            {
                result.Settings.Add(arg);
            }
            else
            {
                result.Problem ??= $"Unknown option {arg}.";
            }
        }

        return result;
    }

    /// <summary>
    /// Whether <paramref name="args"/> ask for help: <c>--help</c>, <c>-h</c> or <c>-?</c> where an option name or a
    /// positional stands, not as the value of one of <paramref name="valueOptions"/> (<c>--reason -h</c> is the reason
    /// "-h"). A value is read as <see cref="Parse"/> reads it: the argument after the option, unless it starts with
    /// <c>--</c> (so <c>--name --help</c> asks for help; <c>--name=--help</c> is the name).
    /// </summary>
    public static bool AsksForHelp(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (IsHelpWord(arg))
            {
                return true;
            }

            if (arg.StartsWith("--", StringComparison.Ordinal) && !arg.Contains('=', StringComparison.Ordinal)
                && valueOptions.Contains(arg[2..], StringComparer.Ordinal)
                && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                i++;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="arg"/> is a word asking for the usage.</summary>
    public static bool IsHelpWord(string arg) => arg is "--help" or "-h" or "-?";

    private void Add(string name, string value)
    {
        if (!options.TryGetValue(name, out var values))
        {
            options[name] = values = [];
        }

        values.Add(value);
    }
}
