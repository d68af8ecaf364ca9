using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Pan.Server.Avatars;

/// <summary>
/// Names of stored avatars. A key is 32 lower-case hex characters: the first 128 bits of SHA-256(uid ‖ the 280 px
/// PNG). Content-addressed per member: a key always names the same bytes (so its files can be cached forever and
/// re-uploading the same picture changes nothing), and no two members share files, so deleting one member's avatar
/// never breaks another's.
/// </summary>
public static class AvatarKeys
{
    public const int Length = 32;

    /// <summary>The square sizes stored for every avatar, in pixels; <see cref="Shown"/> is the one Object.avatar links to.</summary>
    public static readonly IReadOnlyList<int> Sizes = [100, 280];

    public const int Shown = 280;

    public static string For(long uid, ReadOnlySpan<byte> png280)
    {
        var input = new byte[sizeof(long) + png280.Length];
        BinaryPrimitives.WriteInt64BigEndian(input, uid);
        png280.CopyTo(input.AsSpan(sizeof(long)));
        return Convert.ToHexStringLower(SHA256.HashData(input), 0, Length / 2);
    }

    /// <summary>True when <paramref name="key"/> is one of Pan's keys (and so safe to put in a file name).</summary>
    public static bool IsKey(string? key) =>
        key is { Length: Length } && key.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    public static string FileName(string key, int size) =>
        $"{key}-{size.ToString(System.Globalization.CultureInfo.InvariantCulture)}.png";
}
