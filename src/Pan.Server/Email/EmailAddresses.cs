using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MimeKit;

namespace Pan.Server.Email;

/// <summary>
/// Email address syntax as Pan accepts it: a bare address (no display name, comments or quoted local part) that MimeKit
/// parses back to itself, ASCII local part of dot-separated atext (≤ 64), a domain of at least two valid labels (IDN
/// allowed), ≤ 254 characters in all. Uniqueness is by the lower-cased address (<see cref="Key"/>).
/// </summary>
public static class EmailAddresses
{
    public const int MaxLength = 254;

    /// <summary>
    /// True when a live member other than <paramref name="uid"/> has verified the address with this key: only a
    /// verified address has an owner (README "Who owns an email address"; the unique index is filtered the same way).
    /// </summary>
    public static Task<bool> OwnedByAnotherAsync(IQueryable<Pan.Data.Members.Member> members, string key, long? uid, CancellationToken cancellationToken) =>
        Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(
            members, m => m.EmailKey == key && m.EmailVerified && m.Deleted == null && m.Uid != uid, cancellationToken);

    private const string AText = "!#$%&'*+-/=?^_`{|}~";

    /// <summary>The trimmed address when it is acceptable, otherwise null.</summary>
    public static string? Normalize(string? input)
    {
        var address = input?.Trim();
        if (string.IsNullOrEmpty(address) || address.Length > MaxLength || address.Count(c => c == '@') != 1)
        {
            return null;
        }

        if (!MailboxAddress.TryParse(address, out var mailbox) || !string.IsNullOrEmpty(mailbox.Name)
            || !string.Equals(mailbox.Address, address, StringComparison.Ordinal))
        {
            return null;
        }

        var at = address.IndexOf('@', StringComparison.Ordinal);
        return IsLocalPart(address[..at]) && IsDomain(address[(at + 1)..]) ? address : null;
    }

    /// <summary>The uniqueness key of a (normalised) address: lower-cased.</summary>
    public static string Key(string address) => address.ToLowerInvariant();

    /// <summary>SHA-256 of the key: what the delivery log counts by.</summary>
    public static byte[] Hash(string address) => SHA256.HashData(Encoding.UTF8.GetBytes(Key(address)));

    /// <summary>The domain only, for logs (never the whole address).</summary>
    public static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];

    private static bool IsLocalPart(string local) =>
        local.Length is > 0 and <= 64 && !local.StartsWith('.') && !local.EndsWith('.') && !local.Contains("..", StringComparison.Ordinal)
        && local.All(c => char.IsAsciiLetterOrDigit(c) || c == '.' || AText.Contains(c, StringComparison.Ordinal));

    private static bool IsDomain(string domain)
    {
        string ascii;
        try
        {
            ascii = new IdnMapping().GetAscii(domain);
        }
        catch (ArgumentException)
        {
            return false;
        }

        var labels = ascii.Split('.');
        return ascii.Length <= 253 && labels.Length >= 2
            && labels.All(l => l.Length is > 0 and <= 63 && !l.StartsWith('-') && !l.EndsWith('-') && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            && !labels[^1].All(char.IsAsciiDigit);
    }
}
