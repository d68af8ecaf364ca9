using System.Globalization;
using Pan.Server.Suspension;

namespace Pan.Server.Cli;

/// <summary>
/// <c>members suspend &lt;uid&gt; [--until &lt;instant&gt; | --for &lt;N&gt;h|&lt;N&gt;d]</c>, <c>members restore &lt;uid&gt;</c>
/// and <c>members show &lt;uid&gt;</c> (a Pan extension): the same <see cref="MemberSuspensions"/> the admin API uses, each
/// change committed with its audit line (<c>cli.members.suspend</c>, <c>cli.members.restore</c>).
/// </summary>
public static class MemberStandingCommand
{
    public const string Usage = """
        Usage: Pan.Server members suspend <uid> [--until <ISO 8601 instant with offset, e.g. 2027-01-31T12:00Z> | --for <N>h|<N>d]
               Pan.Server members restore <uid>
               Pan.Server members show <uid>
        Without --until or --for a suspension lasts until restored. Exit code 1: no live member has the uid.
        """;

    internal static readonly string[] InstantFormats =
    [
        "yyyy-MM-dd'T'HH:mm'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
        "yyyy-MM-dd'T'HH:mmzzz", "yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
    ];

    /// <summary>Runs <paramref name="command"/> (suspend, restore or show) with the arguments after it.</summary>
    public static async Task<int> RunAsync(string command, CliArguments parsed, TextWriter output, TextWriter error)
    {
        if (!long.TryParse(parsed.Positional(1), NumberStyles.None, CultureInfo.InvariantCulture, out var uid) || uid <= 0 || parsed.Positionals.Count != 2)
        {
            return await CliHost.UsageAsync(error, $"members {command} needs one member uid (a positive number).", Usage);
        }

        var forText = parsed.Option("for");
        var untilText = parsed.Option("until");
        if (command != "suspend" && (forText ?? untilText) is not null)
        {
            return await CliHost.UsageAsync(error, $"members {command} takes no --until or --for.", Usage);
        }

        if (forText is not null && untilText is not null)
        {
            return await CliHost.UsageAsync(error, "Give --until or --for, not both.", Usage);
        }

        var now = DateTimeOffset.UtcNow;
        DateTimeOffset? until = null;
        if (untilText is not null)
        {
            if (!DateTimeOffset.TryParseExact(untilText, InstantFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return await CliHost.UsageAsync(error, "--until must be an ISO 8601 instant with its offset (2027-01-31T12:00Z).", Usage);
            }

            until = at;
        }
        else if (forText is not null)
        {
            if (Duration(forText) is not { } length)
            {
                return await CliHost.UsageAsync(error, "--for must be a number of hours or days, such as 12h or 30d.", Usage);
            }

            until = now + length;
        }

        if (MemberSuspensions.CheckEnd(until, now) is { } problem)
        {
            return await CliHost.UsageAsync(error, "The suspension's end " + problem + ".", Usage);
        }

        return await CliHost.RunAsync(parsed.Settings, output, error, cli => command switch
        {
            "suspend" => SuspendAsync(cli, uid, until),
            "restore" => RestoreAsync(cli, uid),
            _ => ShowAsync(cli, uid),
        });
    }

    private static async Task<int> SuspendAsync(CliContext cli, long uid, DateTimeOffset? until)
    {
        var suspensions = cli.Services.GetRequiredService<MemberSuspensions>();
        var done = await cli.AuditedAsync("cli.members.suspend", Target(uid), async () =>
        {
            var live = await suspensions.SuspendAsync(uid, until, CancellationToken.None);
            return (live, live ? "ok: until " + (until is { } end ? MemberSuspendedException.Rfc3339(end) : "restored") : "refused: no such member");
        });
        if (!done)
        {
            return await NoSuchMemberAsync(cli, uid);
        }

        await cli.Output.WriteLineAsync(until is { } at
            ? $"Member {uid} is suspended until {MemberSuspendedException.Rfc3339(at)}; its sessions and tokens have ended."
            : $"Member {uid} is suspended until restored (members restore {uid}); its sessions and tokens have ended.");
        return CliHost.Ok;
    }

    private static async Task<int> RestoreAsync(CliContext cli, long uid)
    {
        var suspensions = cli.Services.GetRequiredService<MemberSuspensions>();
        var result = RestoreResult.NoSuchMember;
        var done = await cli.AuditedAsync("cli.members.restore", Target(uid), async () =>
        {
            result = await suspensions.RestoreAsync(uid, CancellationToken.None);
            return result switch
            {
                RestoreResult.Restored => (true, "ok"),
                RestoreResult.NotSuspended => (true, "ok: not suspended"),
                _ => (false, "refused: no such member"),
            };
        });
        if (!done)
        {
            return await NoSuchMemberAsync(cli, uid);
        }

        await cli.Output.WriteLineAsync(result == RestoreResult.Restored
            ? $"Member {uid} is restored; it signs in anew (its ended sessions stay ended)."
            : $"Member {uid} was not suspended; nothing changed.");
        return CliHost.Ok;
    }

    private static async Task<int> ShowAsync(CliContext cli, long uid)
    {
        var standing = await cli.Services.GetRequiredService<MemberSuspensions>().FindAsync(uid, CancellationToken.None);
        if (standing is null)
        {
            return await NoSuchMemberAsync(cli, uid);
        }

        var now = cli.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        // Why the phone's last three digits only and no email: what Pan's logs show of them (never the whole).
        var phone = standing.PhoneE164 is { Length: > 3 } e164 ? "ending " + e164[^3..] : "none";
        var suspended = standing.SuspendedUntil is { } until && until > now
            ? until >= MemberSuspensions.Indefinitely ? "until restored" : MemberSuspendedException.Rfc3339(until)
            : "no";
        await cli.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"""
            uid:             {standing.Uid}
            display name:    {standing.DisplayName ?? "(none)"}
            account:         {standing.AccountId} (phone {phone})
            created:         {MemberSuspendedException.Rfc3339(standing.Created)}
            deleted:         {(standing.Deleted is { } deleted ? MemberSuspendedException.Rfc3339(deleted) : "no")}
            suspended until: {suspended}
            """));
        return CliHost.Ok;
    }

    private static async Task<int> NoSuchMemberAsync(CliContext cli, long uid)
    {
        await cli.Error.WriteLineAsync($"No live member has uid {uid}.");
        return CliHost.Failed;
    }

    /// <summary>"12h" or "30d" as a length of time; null when it is neither (or not positive).</summary>
    internal static TimeSpan? Duration(string text)
    {
        if (text.Length < 2 || text[^1] is not ('h' or 'd')
            || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count <= 0)
        {
            return null;
        }

        // Why the cap before the days become hours: a longer length is refused as too far away (CheckEnd), and a count
        // of days beyond it would overflow when multiplied.
        var longest = (long)MemberSuspensions.LongestEnd.TotalHours;
        var hours = text[^1] == 'h' ? count : count > longest / 24 ? longest + 24 : count * 24;
        return hours > longest ? MemberSuspensions.LongestEnd + TimeSpan.FromDays(1) : TimeSpan.FromHours(hours);
    }

    private static string Target(long uid) => "uid:" + uid.ToString(CultureInfo.InvariantCulture);
}
