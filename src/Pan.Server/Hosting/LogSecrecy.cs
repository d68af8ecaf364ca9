using Microsoft.Extensions.Logging.Console;

namespace Pan.Server.Hosting;

/// <summary>Log filters that keep secrets out of framework log lines whatever levels a deployment configures.</summary>
public static class LogSecrecy
{
    /// <summary>ASP.NET Core's "Request starting" / "Request finished" lines.</summary>
    public const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// Holds <see cref="HostingDiagnostics"/> at Warning for every provider, and for the console provider by name,
    /// so that neither <c>Logging:LogLevel</c> nor <c>Logging:Console:LogLevel</c> can lower it.
    /// </summary>
    /// <remarks>
    /// Why: those lines (Information and Debug) hold the full URL with its query string — the verify-email and reset
    /// links' tokens, OAuth authorization requests, apinode parameters sent as a GET — and ASP.NET Core has no option
    /// to leave the query out. A later rule of the same category wins over the configuration's, which is read first.
    /// </remarks>
    public static ILoggingBuilder AddSecretSafeFilters(this ILoggingBuilder logging)
    {
        logging.AddFilter(HostingDiagnostics, LogLevel.Warning);
        logging.AddFilter<ConsoleLoggerProvider>(HostingDiagnostics, LogLevel.Warning);
        return logging;
    }
}
