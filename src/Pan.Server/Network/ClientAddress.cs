using System.Net;

namespace Pan.Server.Network;

/// <summary>
/// The caller's IP address. X-Forwarded-For is honoured only from proxies listed in <c>Pan:Network:TrustedProxies</c>
/// (applied by the forwarded-headers middleware); otherwise it is the TCP peer.
/// </summary>
public static class ClientAddress
{
    /// <summary>The client's address (IPv4-mapped IPv6 addresses as plain IPv4), or null when unknown.</summary>
    public static IPAddress? Of(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        return address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
    }
}
