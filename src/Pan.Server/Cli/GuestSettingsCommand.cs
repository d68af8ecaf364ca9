using Pan.Server.Accounts;
using Pan.Server.Apps;
using Pan.Server.Guests;
using Pan.Server.Members;

namespace Pan.Server.Cli;

/// <summary>
/// <c>apps guest-settings &lt;app_id&gt; [--account-name email|mobile|name] [--activation none|email|sms] [--locale en|zh-TW]</c>:
/// the app's settings for the apinode user endpoints (what an account name is, how converted accounts are activated,
/// the language of members that name none). Without options it prints them.
/// </summary>
public static class GuestSettingsCommand
{
    public const string Usage = """
        Usage: Pan.Server apps guest-settings <app_id> [--account-name email|mobile|name] [--activation none|email|sms] [--locale en|zh-TW]
        """;

    /// <summary>The options that take a value (<c>--name X</c>); the others are flags or not this command's.</summary>
    public static readonly string[] ValueOptions = ["account-name", "activation", "locale"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parsed = CliArguments.Parse(args, ValueOptions);
        if (parsed.Problem is not null)
        {
            return await CliHost.UsageAsync(error, parsed.Problem, Usage);
        }

        var appId = AppIds.Normalize(parsed.Positional(0));
        if (appId is null || parsed.Positionals.Count != 1)
        {
            return await CliHost.UsageAsync(error, $"'{parsed.Positional(0)}' is not an app of the contract.", Usage);
        }

        var nameType = parsed.Option("account-name");
        var activation = parsed.Option("activation");
        var locale = parsed.Option("locale") switch
        {
            null => null,
            var l when string.Equals(l, Locales.English, StringComparison.OrdinalIgnoreCase) => Locales.English,
            var l when string.Equals(l, Locales.TraditionalChinese, StringComparison.OrdinalIgnoreCase) => Locales.TraditionalChinese,
            _ => string.Empty,
        };
        if (nameType is not null && !AccountNameTypes.All.Contains(nameType, StringComparer.Ordinal))
        {
            return await CliHost.UsageAsync(error, "--account-name must be email, mobile or name.", Usage);
        }

        if (activation is not null && !ActivationSchemes.All.Contains(activation, StringComparer.Ordinal))
        {
            return await CliHost.UsageAsync(error, "--activation must be none, email or sms.", Usage);
        }

        if (locale is { Length: 0 })
        {
            return await CliHost.UsageAsync(error, "--locale must be en or zh-TW.", Usage);
        }

        return await CliHost.RunAsync(parsed.Settings, output, error, async cli =>
        {
            await cli.Services.GetRequiredService<AppAdministration>().EnsureSeededAsync(CancellationToken.None);
            var apps = cli.Services.GetRequiredService<GuestApps>();
            var changing = nameType is not null || activation is not null || locale is not null;
            // Why one transaction with the line: a change commits only with its audit line.
            var settings = changing
                ? await cli.AuditedAsync("cli.apps.guest-settings", "app:" + appId, async () =>
                {
                    var set = await apps.SetAsync(appId, nameType, activation, locale, CancellationToken.None);
                    return (set, $"ok: account-name={set.AccountNameType} activation={set.Activation} locale={set.Locale}");
                })
                : await apps.FindAsync(appId, CancellationToken.None);

            await cli.Output.WriteLineAsync($"{appId}: account-name={settings.AccountNameType} activation={settings.Activation} locale={settings.Locale}");
            return CliHost.Ok;
        });
    }
}
