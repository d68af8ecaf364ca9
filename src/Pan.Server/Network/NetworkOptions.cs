using System.Net;

namespace Pan.Server.Network;

/// <summary><c>Pan:Network:*</c>: where requests come from.</summary>
public sealed class NetworkOptions
{
    public const string Section = "Pan:Network";

    /// <summary>
    /// Reverse proxies (IP addresses such as 10.0.0.5, or networks such as 10.0.0.0/8) whose X-Forwarded-For is
    /// believed. Empty (the default): the header is ignored and the client is the TCP peer.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>True when <paramref name="entry"/> is an IP address or a CIDR network.</summary>
    public static bool IsValidEntry(string? entry) =>
        entry is not null && (IPAddress.TryParse(entry.Trim(), out _) || IPNetwork.TryParse(entry.Trim(), out _));
}
