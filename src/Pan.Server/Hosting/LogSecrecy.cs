using Microsoft.Extensions.Logging.Console;

namespace Pan.Server.Hosting;

/// <summary>Log filters that keep secrets out of framework log lines whatever levels a deployment configures.</summary>
public static class LogSecrecy
{
    /// <summary>
    /// Framework categories held at a floor, for every provider and for the console provider by name, so that neither
    /// <c>Logging:LogLevel</c> nor <c>Logging:Console:LogLevel</c> can lower them (a later rule of the same category
    /// wins over the configuration's, which is read first).
    /// </summary>
    /// <remarks>
    /// Why each one:
    /// <list type="bullet">
    /// <item><c>Microsoft.AspNetCore.Hosting.Diagnostics</c>, off: its request lines hold the URL with the query string
    /// (verify-email and reset link tokens, apinode parameters sent as a GET), and while it is enabled at all it opens
    /// the RequestPath scope, which the JSON console writes on every line — and a guest activation path is
    /// <c>/admin/user/activate/{code}@{phone}</c>. ASP.NET Core has no option to redact either.</item>
    /// <item><c>Microsoft.AspNetCore.Routing</c>, Information: its Debug lines repeat the request path.</item>
    /// <item><c>OpenIddict</c>, Warning: at Information it logs the token request with its <c>code_verifier</c>, at
    /// Debug and Trace every token it makes or reads, with the member's email and phone claims.</item>
    /// </list>
    /// </remarks>
    public static readonly IReadOnlyList<(string Category, LogLevel Floor)> Floors =
    [
        ("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None),
        ("Microsoft.AspNetCore.Routing", LogLevel.Information),
        ("OpenIddict", LogLevel.Warning),
    ];

    public static ILoggingBuilder AddSecretSafeFilters(this ILoggingBuilder logging)
    {
        foreach (var (category, floor) in Floors)
        {
            logging.AddFilter(category, floor);
            logging.AddFilter<ConsoleLoggerProvider>(category, floor);
        }

        return logging;
    }
}
