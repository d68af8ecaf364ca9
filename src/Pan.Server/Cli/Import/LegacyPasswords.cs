using System.Buffers.Text;
using System.Globalization;

namespace Pan.Server.Cli.Import;

/// <summary>A legacy password hash to store for an imported member, exactly as the legacy store had it.</summary>
public sealed record LegacyPasswordHash(long Uid, string Hash);

/// <summary>
/// Where <c>members import</c> puts legacy password hashes. A seam: the credentials feature implements it (storing the
/// string as given, so that PasswordHasher verifies it and re-hashes with Argon2id at the member's next sign-in).
/// Called inside the import batch's transaction, after the members have their uids, with the request's
/// <see cref="Pan.Data.PanDbContext"/>; it must not open a transaction of its own.
/// </summary>
public interface ILegacyPasswordWriter
{
    Task WriteAsync(IReadOnlyList<LegacyPasswordHash> hashes, CancellationToken cancellationToken);
}

/// <summary>
/// The legacy hash formats the import accepts (defined by the credentials feature):
/// <c>pbkdf2-sha1$&lt;iterations&gt;$&lt;base64 salt&gt;$&lt;base64 hash&gt;</c> (apinode) and
/// <c>md5md5$&lt;salt&gt;$&lt;32 hex digits&gt;</c> (the legacy forum's salted double MD5).
/// </summary>
public static class LegacyPasswordFormats
{
    public const int MaxLength = 512;

    /// <summary>Null when <paramref name="hash"/> is in one of the formats; else what is wrong.</summary>
    public static string? Check(string hash)
    {
        if (hash.Length > MaxLength)
        {
            return $"must be at most {MaxLength} characters";
        }

        var parts = hash.Split('$');
        return parts[0] switch
        {
            "pbkdf2-sha1" when parts.Length == 4
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) && iterations is >= 1 and <= 10_000_000
                && IsBase64(parts[2]) && IsBase64(parts[3]) => null,
            "md5md5" when parts.Length == 3 && parts[1].Length is >= 1 and <= 64
                && parts[2].Length == 32 && parts[2].All(char.IsAsciiHexDigit) => null,
            _ => "must be pbkdf2-sha1$<iterations>$<base64 salt>$<base64 hash> or md5md5$<salt>$<32 hex digits>",
        };
    }

    private static bool IsBase64(string value) => value.Length > 0 && Base64.IsValid(value);
}
