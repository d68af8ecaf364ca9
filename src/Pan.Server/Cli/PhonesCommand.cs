using System.Globalization;
using Pan.Server.Audit;
using Pan.Server.PhoneBlocks;
using Pan.Server.Phones;
using Pan.Server.Suspension;

namespace Pan.Server.Cli;

/// <summary>
/// <c>phones block &lt;E.164&gt; --reason &lt;text&gt; [--until &lt;instant&gt; | --for &lt;N&gt;h|&lt;N&gt;d]</c>,
/// <c>phones unblock &lt;E.164&gt;</c> and <c>phones list [--page N]</c> (a Pan extension): the same
/// <see cref="PhoneBlocks.PhoneBlocks"/> the admin API uses, each change committed with its audit line
/// (<c>cli.phones.block</c>, <c>cli.phones.unblock</c>, target <c>phone:</c> and the number).
/// </summary>
public static class PhonesCommand
{
    public const string Usage = """
        Usage: Pan.Server phones block <+E.164 number> --reason <text> [--until <ISO 8601 instant with offset> | --for <N>h|<N>d]
               Pan.Server phones unblock <+E.164 number>
               Pan.Server phones list [--page N]
        A blocked number gets no SMS and no account takes it; without --until or --for the block lasts until unblocked.
        Exit code 1: unblock of a number that is not blocked.
        """;

    /// <summary>The options that take a value (<c>--name X</c>); the others are flags or not this command's.</summary>
    public static readonly string[] ValueOptions = ["reason", "until", "for", "page"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parsed = CliArguments.Parse(args, ValueOptions);
        if (parsed.Problem is not null)
        {
            return await CliHost.UsageAsync(error, parsed.Problem, Usage);
        }

        var command = parsed.Positional(0);
        if (command == "list")
        {
            var pageText = parsed.Option("page") ?? "1";
            if (parsed.Positionals.Count != 1 || (parsed.Option("reason") ?? parsed.Option("until") ?? parsed.Option("for")) is not null
                || !int.TryParse(pageText, NumberStyles.None, CultureInfo.InvariantCulture, out var page) || page < 1)
            {
                return await CliHost.UsageAsync(error, "phones list takes only --page N (1 or more).", Usage);
            }

            return await CliHost.RunAsync(parsed.Settings, output, error, cli => ListAsync(cli, page));
        }

        if (command is not ("block" or "unblock"))
        {
            return await CliHost.UsageAsync(error, command is null ? "phones needs a command." : $"Unknown phones command '{command}'.", Usage);
        }

        if (parsed.Positionals.Count != 2 || new PhoneNumbers().Parse(null, parsed.Positional(1)) is not { } phone)
        {
            return await CliHost.UsageAsync(error, $"phones {command} needs one phone number in E.164 (+ and the country calling code).", Usage);
        }

        if (command == "unblock")
        {
            return (parsed.Option("reason") ?? parsed.Option("until") ?? parsed.Option("for") ?? parsed.Option("page")) is not null
                ? await CliHost.UsageAsync(error, "phones unblock takes no options.", Usage)
                : await CliHost.RunAsync(parsed.Settings, output, error, cli => UnblockAsync(cli, phone));
        }

        var reason = parsed.Option("reason");
        if (PhoneBlocks.PhoneBlocks.CheckReason(reason) is { } bad)
        {
            return await CliHost.UsageAsync(error, "--reason " + bad + ".", Usage);
        }

        var (expires, problem) = Expiry(parsed, DateTimeOffset.UtcNow);
        return problem is not null || parsed.Option("page") is not null
            ? await CliHost.UsageAsync(error, problem ?? "phones block takes no --page.", Usage)
            : await CliHost.RunAsync(parsed.Settings, output, error, cli => BlockAsync(cli, phone, reason!, expires));
    }

    private static async Task<int> BlockAsync(CliContext cli, PhoneNumber phone, string reason, DateTimeOffset? expires)
    {
        var blocks = cli.Services.GetRequiredService<PhoneBlocks.PhoneBlocks>();
        await cli.AuditedAsync("cli.phones.block", Target(phone), async () =>
        {
            await blocks.BlockAsync(phone, reason, expires, CliContext.Actor, CancellationToken.None);
            return (true, "ok: until " + (expires is { } end ? MemberSuspendedException.Rfc3339(end) : "unblocked"));
        });
        await cli.Output.WriteLineAsync(expires is { } at
            ? $"{phone.E164} is blocked until {MemberSuspendedException.Rfc3339(at)}."
            : $"{phone.E164} is blocked until unblocked (phones unblock {phone.E164}).");
        return CliHost.Ok;
    }

    private static async Task<int> UnblockAsync(CliContext cli, PhoneNumber phone)
    {
        var blocks = cli.Services.GetRequiredService<PhoneBlocks.PhoneBlocks>();
        var removed = await cli.AuditedAsync("cli.phones.unblock", Target(phone), async () =>
        {
            var done = await blocks.UnblockAsync(phone, CancellationToken.None);
            return (done, done ? "ok" : "refused: not blocked");
        });
        if (!removed)
        {
            await cli.Error.WriteLineAsync($"{phone.E164} is not blocked.");
            return CliHost.Failed;
        }

        await cli.Output.WriteLineAsync($"{phone.E164} is unblocked.");
        return CliHost.Ok;
    }

    private static async Task<int> ListAsync(CliContext cli, int page)
    {
        var blocks = await cli.Services.GetRequiredService<PhoneBlocks.PhoneBlocks>().ListAsync(page, CancellationToken.None);
        foreach (var block in blocks)
        {
            var until = block.Expires is { } end ? MemberSuspendedException.Rfc3339(end) : "unblocked";
            await cli.Output.WriteLineAsync(
                $"{block.PhoneE164}\tsince {MemberSuspendedException.Rfc3339(block.Created)}\tuntil {until}\tby {block.BlockedBy}\t{block.Reason}");
        }

        await cli.Output.WriteLineAsync(blocks.Count == 0 ? "No blocked numbers on this page." : $"{blocks.Count} blocked number(s) on page {page}.");
        return CliHost.Ok;
    }

    /// <summary>The block's expiry from --until or --for (null: none), or what is wrong with them.</summary>
    private static (DateTimeOffset? Expires, string? Problem) Expiry(CliArguments parsed, DateTimeOffset now)
    {
        var forText = parsed.Option("for");
        var untilText = parsed.Option("until");
        if (forText is not null && untilText is not null)
        {
            return (null, "Give --until or --for, not both.");
        }

        DateTimeOffset? expires = null;
        if (untilText is not null)
        {
            if (!DateTimeOffset.TryParseExact(untilText, MemberStandingCommand.InstantFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return (null, "--until must be an ISO 8601 instant with its offset (2027-01-31T12:00Z).");
            }

            expires = at;
        }
        else if (forText is not null)
        {
            if (MemberStandingCommand.Duration(forText) is not { } length)
            {
                return (null, "--for must be a number of hours or days, such as 12h or 30d.");
            }

            expires = now + length;
        }

        return PhoneBlocks.PhoneBlocks.CheckExpiry(expires, now) is { } problem ? (null, "The block's end " + problem + ".") : (expires, null);
    }

    private static string Target(PhoneNumber phone) => AuditLog.Phone(phone.E164);
}
