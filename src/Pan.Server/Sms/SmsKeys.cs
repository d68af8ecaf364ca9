using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>The keys the send log counts by.</summary>
public static class SmsKeys
{
    /// <summary>SHA-256 of the E.164 number (the log needs to count per phone, not to know the phone).</summary>
    public static byte[] Phone(PhoneNumber phone) => SHA256.HashData(Encoding.UTF8.GetBytes(phone.E164));

    /// <summary>
    /// An IPv4 address as is; an IPv6 address as its /64 prefix ("2001:db8:1:2::/64"), because one subscriber
    /// usually holds a whole /64 and could otherwise rotate addresses past the per-IP caps.
    /// </summary>
    public static string? Ip(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
