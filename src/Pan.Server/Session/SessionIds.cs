using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Pan.Server.Members;

namespace Pan.Server.Session;

/// <summary>
/// The <c>session_id</c> ListSessions shows and EndSession takes: 128 bits of HMAC-SHA256 of the auth session's database
/// id under a key derived from <c>Pan:Hashids:Salt</c>, in base64url (22 characters). Why not the id itself, nor a
/// Hashids encoding: ids are handed out in sequence to every sign-in of every member, so an id a member can read (or
/// decode, from two of its own) tells how many sign-ins the whole service had in between. A MAC says nothing of the
/// id; EndSession compares it with those of the sessions the caller may see, which it reads anyway.
/// </summary>
public sealed class SessionIds(IOptions<HashidsOptions> options)
{
    /// <summary>The length of every session id.</summary>
    public const int Length = 22;

    private readonly byte[] key = HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Value.Salt), "pan/session-id/v1"u8);

    /// <summary>The opaque id of auth session <paramref name="id"/>.</summary>
    public string Encode(long id)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(id.ToString(CultureInfo.InvariantCulture)), mac);
        return Base64Url.EncodeToString(mac[..16]);
    }

    /// <summary>Whether <paramref name="value"/> has the shape of a session id (not whether one exists).</summary>
    public static bool IsWellFormed(string? value) =>
        value is { Length: Length } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
