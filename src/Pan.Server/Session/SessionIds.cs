using System.Buffers.Text;
using System.Security.Cryptography;
using Pan.Data.Tokens;

namespace Pan.Server.Session;

/// <summary>
/// The <c>session_id</c> ListSessions shows and EndSession takes: the auth session's own
/// <see cref="AuthSession.PublicId"/>, 128 random bits drawn when the session is opened, in base64url (22 characters).
/// Why not the database id, a Hashids encoding of it, nor anything computed from it: ids are handed out in sequence to
/// every sign-in of every member, so an id a member can read (or map back, from its own) tells how many sign-ins the
/// whole service had in between; and a key derived from configuration (the Hashids salt) is no secret in many
/// deployments. Random bits say nothing of the id. EndSession looks the given id up among the sessions the caller may
/// see only.
/// </summary>
public static class SessionIds
{
    /// <summary>The length of every session id.</summary>
    public const int Length = 22;

    /// <summary>The bytes of <see cref="AuthSession.PublicId"/>.</summary>
    public const int Bytes = 16;

    /// <summary>A new session's public id.</summary>
    public static byte[] NewPublicId() => RandomNumberGenerator.GetBytes(Bytes);

    /// <summary>The session id of a session with <paramref name="publicId"/>.</summary>
    public static string Encode(byte[] publicId) => Base64Url.EncodeToString(publicId);

    /// <summary>The public id a well-formed (<see cref="IsWellFormed"/>) session id names, or null when its characters decode to none.</summary>
    public static byte[]? Decode(string sessionId)
    {
        var bytes = new byte[Bytes];
        return Base64Url.TryDecodeFromChars(sessionId, bytes, out var written) && written == Bytes ? bytes : null;
    }

    /// <summary>Whether <paramref name="value"/> has the shape of a session id (not whether one exists).</summary>
    public static bool IsWellFormed(string? value) =>
        value is { Length: Length } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
