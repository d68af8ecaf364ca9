using Microsoft.Extensions.Options;

namespace Pan.Server.Metrics;

/// <summary><c>Pan:Metrics:*</c>: the Prometheus scrape listener (off unless <see cref="Url"/> is set).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Pan:Metrics";

    /// <summary>
    /// Address of the listener that answers <c>GET /metrics</c> in the Prometheus text format, written like a Kestrel
    /// endpoint's Url with an IP address, <c>localhost</c>, <c>*</c> or <c>+</c> as its host (<c>http://127.0.0.1:9464</c>,
    /// <c>http://0.0.0.0:9464</c>, <c>http://localhost:9464</c>; a host name is refused). Empty
    /// (the default): no listener is opened and nothing is collected. Never one of the public listeners: it is a
    /// listener of its own, and the public ones do not answer <c>/metrics</c>.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>Whether the metrics listener is on.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Url);
}

/// <summary>Start-up rules for <c>Pan:Metrics</c>; every failure names its setting.</summary>
internal sealed partial class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var url = options.Url!.Trim();
        BindingAddress? address = null;
        try
        {
            // Why the explicit port: an http URL without one would mean port 80, never what an operator meant here.
            address = ExplicitPort().IsMatch(url) ? BindingAddress.Parse(url) : null;
        }
        catch (FormatException)
        {
        }

        // Why http only: the listener has no certificate settings of its own; it belongs on a private network or loopback.
        return address is { Scheme: "http", IsUnixPipe: false, Port: > 0 } && address.PathBase.Length == 0 && SaysWhereItListens(address.Host)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                "Pan:Metrics:Url must be empty (no metrics listener) or an http URL with a host and a port and no path, such as http://127.0.0.1:9464; "
                + "the host must be an IP address, localhost, * or + (Kestrel listens on every interface for any other host name).");
    }

    /// <summary>
    /// Whether <paramref name="host"/> names the interfaces Kestrel binds: an IP address, localhost (loopback), or the
    /// wildcards * and + (every interface, as 0.0.0.0). Why: Kestrel binds any other host name to every interface, so
    /// http://metrics.internal:9464 would open the scrape on the public addresses too, unlike what it says.
    /// </summary>
    private static bool SaysWhereItListens(string host) =>
        host is "*" or "+" || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (host.StartsWith('[') && host.EndsWith(']') ? System.Net.IPAddress.TryParse(host[1..^1], out _) : System.Net.IPAddress.TryParse(host, out _));

    [System.Text.RegularExpressions.GeneratedRegex(@":[0-9]+/?$")]
    private static partial System.Text.RegularExpressions.Regex ExplicitPort();
}
