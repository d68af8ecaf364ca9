using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Pan.Server.Hosting;

/// <summary>Log filters that keep secrets out of framework log lines whatever levels a deployment configures.</summary>
public static class LogSecrecy
{
    /// <summary>
    /// Framework categories held at or above a floor, for every provider and for the console provider by name, so that
    /// neither <c>Logging:LogLevel</c> nor <c>Logging:Console:LogLevel</c> can lower them. A floor never lowers a level:
    /// where the configuration is stricter (appsettings.json holds <c>Microsoft.AspNetCore</c> at Warning), the
    /// configuration's level stands.
    /// </summary>
    /// <remarks>
    /// Why each one:
    /// <list type="bullet">
    /// <item><c>Microsoft.AspNetCore.Hosting.Diagnostics</c>, off: its request lines hold the URL with the query string
    /// (verify-email and reset link tokens, apinode parameters sent as a GET), and while it is enabled at all it opens
    /// the RequestPath scope, which the JSON console writes on every line — and a guest activation path is
    /// <c>/admin/user/activate/{code}@{phone}</c>. ASP.NET Core has no option to redact either.</item>
    /// <item><c>Microsoft.AspNetCore.Routing</c>, Information: its Debug lines repeat the request path. Its Information
    /// lines ("Executing endpoint", "Executed endpoint") are two per request and carry no secret, so a deployment may
    /// turn them on; Pan's own request log (<c>Pan.Requests</c>) is the lighter way to see requests.</item>
    /// <item><c>OpenIddict</c>, Warning: at Information it logs the token request with its <c>code_verifier</c>, at
    /// Debug and Trace every token it makes or reads, with the member's email and phone claims.</item>
    /// <item><c>Microsoft.AspNetCore.Server.Kestrel.BadRequests</c>, Information: its Debug line for a request the server
    /// refuses before Pan sees it quotes the request line (while Kestrel logs at Information or below), so a client that
    /// leaves a space unencoded in a reset or verify-email link, an apinode GET (<c>passwd</c>) or an activation path
    /// (<c>{code}@{phone}</c>) had the token, password or code and number logged.</item>
    /// <item><c>Microsoft.AspNetCore.Server.Kestrel.Http2</c>, Information: its Debug line for a stream it refuses quotes
    /// the refusal, which for a <c>:path</c> it will not take is the whole path with its query (a link token).</item>
    /// <item><c>Microsoft.AspNetCore.Http.Result.RedirectResult</c>, Warning: at Information it logs every redirect's
    /// destination, and the OAuth pages redirect to the consent page with the consent request's id (a secret stored
    /// hashed) and back to /connect/authorize with it and the app's parameters (an <c>id_token_hint</c> carries the
    /// member's claims).</item>
    /// </list>
    /// </remarks>
    public static readonly IReadOnlyList<(string Category, LogLevel Floor)> Floors =
    [
        ("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None),
        ("Microsoft.AspNetCore.Routing", LogLevel.Information),
        ("OpenIddict", LogLevel.Warning),
        ("Microsoft.AspNetCore.Server.Kestrel.BadRequests", LogLevel.Information),
        ("Microsoft.AspNetCore.Server.Kestrel.Http2", LogLevel.Information),
        ("Microsoft.AspNetCore.Http.Result.RedirectResult", LogLevel.Warning),
    ];

    public static ILoggingBuilder AddSecretSafeFilters(this ILoggingBuilder logging)
    {
        // Why after configuration: a floor must know the level the configuration gives its category, to keep the
        // stricter of the two; post-configure runs after the Logging section's rules are read (and again on reload).
        logging.Services.AddSingleton<IPostConfigureOptions<LoggerFilterOptions>, FloorRules>();
        return logging;
    }

    /// <summary>
    /// Puts a floor check in front of the own filter of every configured rule that could be picked for a category at or
    /// under a floor's (so no such rule, whatever category or wildcard it names, lets a line below the floor through),
    /// then adds, per provider a rule names (and for every
    /// provider and the console by name), a rule for each floor's category at the stricter of the floor and the level the
    /// configuration would have given that category.
    /// </summary>
    /// <remarks>
    /// The level the configuration would give is found the way Microsoft.Extensions.Logging picks a rule (its
    /// <c>LoggerRuleSelector</c>): rules of the provider (by type name or alias) beat rules for every provider, then
    /// the longest matching category, then the later rule.
    /// </remarks>
    private sealed class FloorRules : IPostConfigureOptions<LoggerFilterOptions>
    {
        private static readonly string ConsoleType = typeof(ConsoleLoggerProvider).FullName!;
        private const string ConsoleAlias = "Console";

        public void PostConfigure(string? name, LoggerFilterOptions options)
        {
            var configured = options.Rules.ToList();
            for (var i = 0; i < options.Rules.Count; i++)
            {
                var rule = options.Rules[i];
                if (!MayReachAFloor(rule.CategoryName))
                {
                    continue;
                }

                var filter = rule.Filter;
                options.Rules[i] = new LoggerFilterRule(rule.ProviderName, rule.CategoryName, rule.LogLevel,
                    (provider, category, level) => level >= FloorOf(category) && (filter is null || filter(provider, category, level)));
            }

            var providers = configured.Select(r => r.ProviderName).OfType<string>()
                .Where(p => p is not ConsoleAlias && p != ConsoleType)
                .Distinct(StringComparer.Ordinal)
                .Select(p => (Name: (string?)p, Names: new[] { p }))
                .Append((ConsoleType, [ConsoleType, ConsoleAlias]))
                .Append((null, []))
                .ToList();
            foreach (var (category, floor) in Floors)
            {
                foreach (var (provider, names) in providers)
                {
                    var level = ConfiguredLevel(configured, options.MinLevel, names, category);
                    options.Rules.Add(new LoggerFilterRule(provider, category, level > floor ? level : floor, null));
                }
            }
        }

        /// <summary>
        /// True when a rule for <paramref name="pattern"/> could be the one picked for a category at or under a floor's.
        /// A rule for every category never is (each floor category has a rule of its own, per provider), nor is one
        /// whose part before any <c>*</c> neither starts with a floor category nor is the start of one, such as
        /// <c>Pan.Requests</c>: those keep their own filter, and Pan's own log calls no extra check.
        /// </summary>
        private static bool MayReachAFloor(string? pattern)
        {
            if (pattern is null)
            {
                return false;
            }

            var (prefix, _) = Split(pattern);
            return Floors.Any(f => prefix.StartsWith(f.Category, StringComparison.OrdinalIgnoreCase)
                || f.Category.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
        }

        /// <summary>A rule's category pattern around its wildcard, as Microsoft.Extensions.Logging reads it (no <c>*</c>: all prefix).</summary>
        private static (string Prefix, string Suffix) Split(string pattern)
        {
            var star = pattern.IndexOf('*', StringComparison.Ordinal);
            return star < 0 ? (pattern, string.Empty) : (pattern[..star], pattern[(star + 1)..]);
        }

        /// <summary>The floor of <paramref name="category"/>: that of the floor category it is or lies under, else Trace.</summary>
        private static LogLevel FloorOf(string? category)
        {
            var result = LogLevel.Trace;
            foreach (var (floorCategory, floor) in Floors)
            {
                // Why no concatenation: this runs on every enabled log call.
                if (category is not null && floor > result
                    && category.StartsWith(floorCategory, StringComparison.OrdinalIgnoreCase)
                    && (category.Length == floorCategory.Length || category[floorCategory.Length] == '.'))
                {
                    result = floor;
                }
            }

            return result;
        }

        /// <summary>The minimum level the rules give <paramref name="category"/> for a provider known by <paramref name="names"/> (none: a provider no rule names).</summary>
        private static LogLevel ConfiguredLevel(List<LoggerFilterRule> rules, LogLevel minLevel, string[] names, string category)
        {
            LoggerFilterRule? best = null;
            foreach (var rule in rules)
            {
                if (IsBetter(rule, best, names, category))
                {
                    best = rule;
                }
            }

            return best is null ? minLevel : best.LogLevel ?? LogLevel.Trace;
        }

        private static bool IsBetter(LoggerFilterRule rule, LoggerFilterRule? best, string[] names, string category)
        {
            if (rule.ProviderName is not null && !names.Contains(rule.ProviderName, StringComparer.Ordinal))
            {
                return false;
            }

            if (rule.CategoryName is { } pattern)
            {
                var (prefix, suffix) = Split(pattern);
                if (!category.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || !category.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }

            if (best?.ProviderName is not null)
            {
                if (rule.ProviderName is null)
                {
                    return false;
                }
            }
            else if (rule.ProviderName is not null)
            {
                return true;
            }

            if (best?.CategoryName is not null)
            {
                if (rule.CategoryName is null || best.CategoryName.Length > rule.CategoryName.Length)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
