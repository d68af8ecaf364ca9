using System.Globalization;
using Pan.General.Application;
using Pan.Server.Apps;
using Pan.Server.Members;

namespace Pan.Server.Cli;

/// <summary>
/// <c>apps</c>: the app registry. Every app of the contract (AppId.Value) has a row from the start (seeded); an
/// operator registers one to give it a display name, its allowed auth_url hosts and a secret. A secret is printed
/// once, when it is made, and stored only as its SHA-256.
/// </summary>
public static class AppsCommand
{
    public const string Usage = """
        Usage: Pan.Server apps list
               Pan.Server apps add <app_id> --name <display name> [--auth-host host1,host2]   (prints the secret once)
               Pan.Server apps update <app_id> [--name <display name>] [--auth-host host1,host2]
               Pan.Server apps rotate-secret <app_id>                                         (prints the new secret once)
               Pan.Server apps guest-settings <app_id> [--account-name email|mobile|name] [--activation none|email|sms] [--locale en|zh-TW]
               Pan.Server apps events <app_id> [--url <https://…> | --rotate-secret | --off]   (--url and --rotate-secret print a signing secret once)
        """;

    /// <summary>The options that take a value (<c>--name X</c>); the others are flags or not this command's.</summary>
    public static readonly string[] ValueOptions = ["name", "auth-host"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args is ["guest-settings", .. var rest])
        {
            return await GuestSettingsCommand.RunAsync(rest, output, error);
        }

        if (args is ["events", .. var eventArgs])
        {
            return await AppEventsCommand.RunAsync(eventArgs, output, error);
        }

        var parsed = CliArguments.Parse(args, ValueOptions);
        if (parsed.Problem is not null)
        {
            return await CliHost.UsageAsync(error, parsed.Problem, Usage);
        }

        var verb = parsed.Positional(0);
        string? appId = null;
        if (verb is "add" or "update" or "rotate-secret")
        {
            appId = AppIds.Normalize(parsed.Positional(1));
            if (appId is null)
            {
                var known = string.Join(", ", AppId.Descriptor.EnumTypes[0].Values.Where(v => v.Number != 0).Select(v => v.Name));
                return await CliHost.UsageAsync(error, $"'{parsed.Positional(1)}' is not an app of the contract ({known}).", Usage);
            }
        }

        string? hosts = null;
        if (parsed.Option("auth-host") is { } hostList)
        {
            (hosts, var problem) = AuthHosts.Parse(hostList);
            if (problem is not null)
            {
                return await CliHost.UsageAsync(error, "--auth-host: " + problem, Usage);
            }
        }

        var name = parsed.Option("name")?.Trim();
        if (name is { Length: 0 or > 100 })
        {
            return await CliHost.UsageAsync(error, "--name must be 1 to 100 characters.", Usage);
        }

        return verb switch
        {
            "list" => await CliHost.RunAsync(parsed.Settings, output, error, ListAsync),
            "add" when name is null => await CliHost.UsageAsync(error, "apps add needs --name.", Usage),
            "add" => await CliHost.RunAsync(parsed.Settings, output, error, c => AddAsync(c, appId!, name, hosts ?? string.Empty)),
            "update" when name is null && hosts is null => await CliHost.UsageAsync(error, "apps update needs --name or --auth-host.", Usage),
            "update" => await CliHost.RunAsync(parsed.Settings, output, error, c => UpdateAsync(c, appId!, name, hosts)),
            "rotate-secret" => await CliHost.RunAsync(parsed.Settings, output, error, c => RotateAsync(c, appId!)),
            _ => await CliHost.UsageAsync(error, verb is null ? "apps needs a command." : $"Unknown apps command '{verb}'.", Usage),
        };
    }

    private static async Task<int> ListAsync(CliContext cli)
    {
        var apps = cli.Services.GetRequiredService<AppAdministration>();
        await apps.EnsureSeededAsync(CancellationToken.None);
        await cli.Output.WriteLineAsync($"{"APP_ID",-10} {"REGISTERED",-10} {"SECRET_SET",-20} {"NAME",-24} AUTH_HOSTS");
        foreach (var app in await apps.ListAsync(CancellationToken.None))
        {
            var rotated = app.SecretRotated?.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture) ?? "-";
            await cli.Output.WriteLineAsync(
                $"{app.AppId,-10} {(app.HasSecret ? "yes" : "no"),-10} {rotated,-20} {app.Name,-24} {(app.AuthHosts.Count == 0 ? "-" : string.Join(',', app.AuthHosts))}");
        }

        return CliHost.Ok;
    }

    private static async Task<int> AddAsync(CliContext cli, string appId, string name, string hosts)
    {
        var apps = cli.Services.GetRequiredService<AppAdministration>();
        await apps.EnsureSeededAsync(CancellationToken.None);
        // Why no look first: two operators adding one app at once both saw "not registered", and the later secret
        // silently replaced the earlier one; the registration itself decides (AppAdministration.RegisterAsync).
        var secret = await cli.AuditedAsync("cli.apps.add", "app:" + appId, async () =>
        {
            var made = await apps.RegisterAsync(appId, name, hosts, CancellationToken.None);
            return (made, made is null ? "refused: already registered" : "ok");
        });
        if (secret is null)
        {
            await cli.Error.WriteLineAsync($"{appId} is already registered. Use 'apps rotate-secret {appId}' for a new secret or 'apps update {appId}' for its name and hosts.");
            return CliHost.Failed;
        }

        await cli.Output.WriteLineAsync($"Registered {appId} ({name}); auth_url hosts: {(hosts.Length == 0 ? "none (it cannot make login tokens)" : hosts)}.");
        await cli.Output.WriteLineAsync("App secret (shown only now; store it in the app's secret store):");
        await cli.Output.WriteLineAsync(secret);
        return CliHost.Ok;
    }

    private static async Task<int> UpdateAsync(CliContext cli, string appId, string? name, string? hosts)
    {
        var apps = cli.Services.GetRequiredService<AppAdministration>();
        await apps.EnsureSeededAsync(CancellationToken.None);
        await cli.AuditedAsync("cli.apps.update", "app:" + appId, async () =>
        {
            await apps.UpdateAsync(appId, name, hosts, CancellationToken.None);
            return (true, "ok");
        });
        await cli.Output.WriteLineAsync($"Updated {appId}.");
        return CliHost.Ok;
    }

    private static async Task<int> RotateAsync(CliContext cli, string appId)
    {
        var apps = cli.Services.GetRequiredService<AppAdministration>();
        await apps.EnsureSeededAsync(CancellationToken.None);
        // Why one transaction with the line: a rotation that committed while its line failed killed the old secret and
        // never showed the new one.
        var secret = await cli.AuditedAsync("cli.apps.rotate-secret", "app:" + appId,
            async () => (await apps.RotateSecretAsync(appId, CancellationToken.None), "ok"));
        await cli.Output.WriteLineAsync($"New secret for {appId} (the old one no longer works; shown only now):");
        await cli.Output.WriteLineAsync(secret);
        return CliHost.Ok;
    }
}
