using System.Globalization;
using Pan.Server.AppEvents;
using Pan.Server.Apps;
using Pan.Server.Members;

namespace Pan.Server.Cli;

/// <summary>
/// <c>apps events &lt;app_id&gt; [--url &lt;https://…&gt; | --rotate-secret | --off]</c>: the app's subscription to Pan's
/// events. <c>--url</c> subscribes it (printing the new signing secret once) or, when it is subscribed, changes only the
/// URL; <c>--rotate-secret</c> makes a new secret (printed once; the old one signs too for
/// <c>Pan:AppEvents:RotationOverlapHours</c>); <c>--off</c> ends the subscription and gives up its
/// queued events. Without options it prints the subscription. Each change commits with its audit line.
/// </summary>
public static class AppEventsCommand
{
    public const string Usage = """
        Usage: Pan.Server apps events <app_id> [--url <https://…> | --rotate-secret | --off]
        """;

    /// <summary>The options that take a value (<c>--name X</c>); the others are flags or not this command's.</summary>
    public static readonly string[] ValueOptions = ["url"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        // Why taken out first: CliArguments reads options with values; these two are flags.
        var rotate = args.Contains("--rotate-secret", StringComparer.Ordinal);
        var off = args.Contains("--off", StringComparer.Ordinal);
        var parsed = CliArguments.Parse([.. args.Where(a => a is not ("--rotate-secret" or "--off"))], ValueOptions);
        if (parsed.Problem is not null)
        {
            return await CliHost.UsageAsync(error, parsed.Problem, Usage);
        }

        var appId = AppIds.Normalize(parsed.Positional(0));
        if (appId is null || parsed.Positionals.Count != 1)
        {
            return await CliHost.UsageAsync(error, $"'{parsed.Positional(0)}' is not an app of the contract.", Usage);
        }

        var url = parsed.Option("url");
        if ((url is null ? 0 : 1) + (rotate ? 1 : 0) + (off ? 1 : 0) > 1)
        {
            return await CliHost.UsageAsync(error, "Give one of --url, --rotate-secret and --off.", Usage);
        }

        if (url is not null && AppEventUrls.Check(url) is { } problem)
        {
            return await CliHost.UsageAsync(error, "--url " + problem + ".", Usage);
        }

        return await CliHost.RunAsync(parsed.Settings, output, error, async cli =>
        {
            await cli.Services.GetRequiredService<AppAdministration>().EnsureSeededAsync(CancellationToken.None);
            var subscriptions = cli.Services.GetRequiredService<AppEventSubscriptions>();
            var target = "app:" + appId;
            if (url is not null)
            {
                var secret = await cli.AuditedAsync("cli.apps.events", target, async () =>
                {
                    var made = await subscriptions.SetUrlAsync(appId, url, CancellationToken.None);
                    return (made, made is null ? "ok: url changed" : "ok: subscribed");
                });
                if (secret is null)
                {
                    await cli.Output.WriteLineAsync($"{appId}: events now go to {url} (the signing secret is unchanged; queued events go there too).");
                    return CliHost.Ok;
                }

                await cli.Output.WriteLineAsync($"{appId}: events go to {url}.");
                await cli.Output.WriteLineAsync("Signing secret (shown only now; store it in the app's secret store):");
                await cli.Output.WriteLineAsync(secret);
                return CliHost.Ok;
            }

            if (rotate)
            {
                var secret = await cli.AuditedAsync("cli.apps.events", target, async () =>
                {
                    var made = await subscriptions.RotateSecretAsync(appId, CancellationToken.None);
                    return (made, made is null ? "refused: not subscribed" : "ok: secret rotated");
                });
                if (secret is null)
                {
                    await cli.Error.WriteLineAsync($"{appId} has no event subscription; subscribe it with 'apps events {appId} --url <https://…>'.");
                    return CliHost.Failed;
                }

                var old = secret.PreviousUntil is { } until
                    ? $"the old one keeps signing alongside it until {Minute(until)}"
                    : "the old one signs nothing from now on";
                await cli.Output.WriteLineAsync($"New signing secret for {appId}'s events ({old}; shown only now):");
                await cli.Output.WriteLineAsync(secret.Secret);
                return CliHost.Ok;
            }

            if (off)
            {
                var given = await cli.AuditedAsync("cli.apps.events", target, async () =>
                {
                    var count = await subscriptions.TurnOffAsync(appId, CancellationToken.None);
                    return (count, $"ok: off, {count.ToString(CultureInfo.InvariantCulture)} queued event(s) given up");
                });
                await cli.Output.WriteLineAsync($"{appId}: no events; {given} queued event(s) given up.");
                return CliHost.Ok;
            }

            var listing = await subscriptions.FindAsync(appId, CancellationToken.None);
            await cli.Output.WriteLineAsync(listing is null
                ? $"{appId}: no events."
                : $"{appId}: events go to {listing.Url} (since {Minute(listing.Modified)}); {listing.Queued} queued."
                    + (listing.PreviousUntil is { } previous ? $" The previous secret signs too until {Minute(previous)}." : string.Empty));
            return CliHost.Ok;
        });
    }

    private static string Minute(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
}
