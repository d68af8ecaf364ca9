using System.Security.Cryptography;

namespace Pan.Server.Avatars;

/// <summary>
/// Names of stored avatars. A key is 32 lower-case hex characters: 128 random bits, new for every upload. A key always
/// names the same bytes (so its files can be cached forever), no two members share files (deleting one member's avatar
/// never breaks another's), and a key is the member's avatar at most once: once replaced or removed it never comes back.
/// </summary>
/// <remarks>
/// Why not derived from the picture: two uploads of one picture then shared a key, and an upload that replaced it
/// (and so deleted the key's files) while the same picture was being uploaded again left the member pointing at the
/// deleted files.
/// </remarks>
public static class AvatarKeys
{
    public const int Length = 32;

    /// <summary>The square sizes stored for every avatar, in pixels; <see cref="Shown"/> is the one Object.avatar links to.</summary>
    public static readonly IReadOnlyList<int> Sizes = [100, 280];

    public const int Shown = 280;

    /// <summary>A new key for one upload.</summary>
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(Length / 2));

    /// <summary>True when <paramref name="key"/> is one of Pan's keys (and so safe to put in a file name).</summary>
    public static bool IsKey(string? key) =>
        key is { Length: Length } && key.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    public static string FileName(string key, int size) =>
        $"{key}-{size.ToString(System.Globalization.CultureInfo.InvariantCulture)}.png";
}
