using System.Net;

namespace Pan.Server.Network;

/// <summary>
/// The caller's IP address. X-Forwarded-For is honoured only from proxies listed in <c>Pan:Network:TrustedProxies</c>
/// (applied by the forwarded-headers middleware); otherwise it is the TCP peer.
/// </summary>
public static class ClientAddress
{
    public static IPAddress? Of(HttpContext context) => context.Connection.RemoteIpAddress;
}
