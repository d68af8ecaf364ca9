using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using Pan.Server.Members;

namespace Pan.Server.Credentials;

/// <summary>Why a new password is refused (NIST SP 800-63B): too short/long, common, or derived from the member's own data.</summary>
public sealed record PasswordProblem(string Reason);

/// <summary>The password rules. Context: the member's phone, email and display name, from which a password may not be derived.</summary>
/// <remarks>
/// SP 800-63B 5.1.1.2 / ASVS 6.2: length is counted in Unicode code points (an emoji is one), 8 to 256 are accepted
/// (so any 64-character passphrase is), nothing is truncated and there are no composition rules. Refused, with the
/// reason: a password of the embedded common-password list (also when only digits or symbols were appended), one
/// character repeated, a short pattern repeated, a run like 12345678 or abcdefgh, and one that contains (or is the
/// reverse of) the member's phone digits (its last 8), email (whole or local part) or display name (also without
/// spaces). Context values shorter than 4 code points are not looked for (they would forbid too much). Comparisons
/// are case-insensitive on the NFKC form. Context values are classified by shape: starting with '+' or only digits =
/// phone, containing '@' = email, otherwise display name.
/// </remarks>
public sealed class PasswordPolicy
{
    public const int MinLength = 8;

    /// <summary>Longest accepted password in code points. Longer ones are refused before they are ever hashed.</summary>
    public const int MaxLength = 256;

    private const int MinContextLength = 4;
    private const int PhoneDigits = 8;

    private static readonly Lazy<FrozenSet<string>> Common = new(LoadCommon);

    /// <summary>How many entries the common-password list holds.</summary>
    public static int CommonCount => Common.Value.Count;

    /// <summary>Null when <paramref name="password"/> is acceptable.</summary>
    public PasswordProblem? Check(string? password, IEnumerable<string?> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(password))
        {
            return new PasswordProblem($"must be at least {MinLength} characters");
        }

        // Why: refuse a huge input before any per-character work (a code point is at most two UTF-16 units).
        if (password.Length > MaxLength * 2)
        {
            return new PasswordProblem($"must be at most {MaxLength} characters");
        }

        // Why: such a password could only be hashed altered (U+FFFD in place of the bad character); refuse it instead.
        if (!UnicodeText.IsNormalizable(password))
        {
            return new PasswordProblem("must not contain U+FFFE or an unpaired surrogate");
        }

        var runes = password.EnumerateRunes().ToList();
        if (runes.Count < MinLength)
        {
            return new PasswordProblem($"must be at least {MinLength} characters");
        }

        if (runes.Count > MaxLength)
        {
            return new PasswordProblem($"must be at most {MaxLength} characters");
        }

        var folded = Fold(password);
        if (IsCommon(folded))
        {
            return new PasswordProblem("is one of the most common passwords; choose another");
        }

        var foldedRunes = folded.EnumerateRunes().Select(r => r.Value).ToArray();
        if (IsRepeatedPattern(foldedRunes))
        {
            return new PasswordProblem("repeats one character or a short pattern; choose another");
        }

        if (IsRun(foldedRunes))
        {
            return new PasswordProblem("is a simple sequence such as 12345678 or abcdefgh; choose another");
        }

        foreach (var value in context)
        {
            if (DerivedFrom(folded, value) is { } what)
            {
                return new PasswordProblem($"must not contain or be derived from your {what}");
            }
        }

        return null;
    }

    /// <summary>True when the password is short enough to hash or verify (at most <see cref="MaxLength"/> code points).</summary>
    public static bool WithinHashableLength(string password) =>
        password.Length <= MaxLength || (password.Length <= MaxLength * 2 && password.EnumerateRunes().Count() <= MaxLength);

    /// <summary>Case- and width-folded form used for every comparison.</summary>
    internal static string Fold(string value) => UnicodeText.Normalize(value.Trim(), NormalizationForm.FormKC).ToLowerInvariant();

    private static bool IsCommon(string folded)
    {
        var common = Common.Value;
        if (common.Contains(folded))
        {
            return true;
        }

        // Why: "sunshine2027!" is as guessable as "sunshine"; try again without the trailing digits and symbols.
        var end = folded.Length;
        while (end > 0 && !char.IsLetter(folded[end - 1]))
        {
            end--;
        }

        return end >= 4 && end < folded.Length && common.Contains(folded[..end]);
    }

    private static bool IsRepeatedPattern(int[] runes)
    {
        for (var unit = 1; unit <= 4 && unit * 2 <= runes.Length; unit++)
        {
            var repeated = true;
            for (var i = unit; i < runes.Length && repeated; i++)
            {
                repeated = runes[i] == runes[i % unit];
            }

            if (repeated)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsRun(int[] runes)
    {
        var step = runes[1] - runes[0];
        if (step is not (1 or -1))
        {
            return false;
        }

        for (var i = 2; i < runes.Length; i++)
        {
            // Why: digits wrap around (67890123 is as much a run as 12345678).
            var diff = runes[i] - runes[i - 1];
            var wraps = char.IsAsciiDigit((char)runes[i]) && char.IsAsciiDigit((char)runes[i - 1]) && Math.Abs(diff) == 9;
            if (diff != step && !wraps)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>What the password is derived from ("phone number", "email address", "display name"), or null.</summary>
    private static string? DerivedFrom(string folded, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var context = Fold(value);
        if (context.StartsWith('+') || context.All(c => char.IsAsciiDigit(c) || c is ' ' or '-'))
        {
            var phone = new string(context.Where(char.IsAsciiDigit).ToArray());
            var digits = new string(folded.Where(char.IsAsciiDigit).ToArray());
            var tail = phone.Length > PhoneDigits ? phone[^PhoneDigits..] : phone;
            return tail.Length >= MinContextLength && (digits.Contains(tail, StringComparison.Ordinal) || digits.Contains(Reverse(tail), StringComparison.Ordinal))
                ? "phone number"
                : null;
        }

        if (context.Contains('@', StringComparison.Ordinal))
        {
            var local = context[..context.IndexOf('@', StringComparison.Ordinal)];
            return Contains(folded, context) || Contains(folded, local) ? "email address" : null;
        }

        return Contains(folded, context) || Contains(folded, context.Replace(" ", string.Empty, StringComparison.Ordinal))
            ? "display name"
            : null;
    }

    private static bool Contains(string folded, string candidate) =>
        new StringInfo(candidate).LengthInTextElements >= MinContextLength
        && (folded.Contains(candidate, StringComparison.Ordinal) || folded.Contains(Reverse(candidate), StringComparison.Ordinal));

    private static string Reverse(string value)
    {
        var elements = new List<string>();
        var e = StringInfo.GetTextElementEnumerator(value);
        while (e.MoveNext())
        {
            elements.Add(e.GetTextElement());
        }

        elements.Reverse();
        return string.Concat(elements);
    }

    private static FrozenSet<string> LoadCommon()
    {
        using var stream = typeof(PasswordPolicy).Assembly.GetManifestResourceStream("Pan.Server.Credentials.common-passwords.txt")
            ?? throw new InvalidOperationException("The embedded common-password list is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var entries = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                entries.Add(Fold(line));
            }
        }

        return entries.ToFrozenSet(StringComparer.Ordinal);
    }
}
