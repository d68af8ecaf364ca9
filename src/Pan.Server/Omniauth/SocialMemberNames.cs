using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Pan.Server.DisplayNames;

namespace Pan.Server.Omniauth;

/// <summary>
/// The display name of a member created by social login: the provider's name, with the characters Pan's display-name
/// rules refuse removed and cut to 20 characters, or "member" when nothing usable is left; a taken name gets a random
/// "_NNNN" suffix (the database's unique index has the last word under concurrency).
/// </summary>
public static class SocialMemberNames
{
    public const string Fallback = "member";

    /// <summary>The cleaned base name (always valid under <see cref="DisplayNameRules"/>).</summary>
    public static string Base(string? providerName)
    {
        var builder = new StringBuilder();
        foreach (var rune in DisplayNameRules.Clean(providerName).EnumerateRunes())
        {
            // Why: judge one character at a time, between two letters, with the same rules as every display name.
            if (DisplayNameRules.Check("a" + rune.ToString() + "a") == DisplayNameProblem.None)
            {
                builder.Append(rune.ToString());
            }
        }

        var elements = StringInfo.GetTextElementEnumerator(string.Join(' ', builder.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        var kept = new StringBuilder();
        var count = 0;
        while (elements.MoveNext() && count < DisplayNameRules.MaxLength)
        {
            kept.Append((string)elements.Current);
            count++;
        }

        var name = kept.ToString().Trim();
        // Why: 20 letters may still be too long to store (combining marks make one letter several UTF-16 units, and
        // U+FDFA folds to 18 characters in the key); drop letters from the end until the name fits its columns.
        while (name.Length > 0 && !DisplayNameRules.Fits(name))
        {
            var starts = StringInfo.ParseCombiningCharacters(name);
            name = name[..starts[^1]].TrimEnd();
        }

        return DisplayNameRules.Check(name) == DisplayNameProblem.None ? name : Fallback;
    }

    /// <summary><paramref name="name"/> cut to leave room for a random "_NNNN" suffix.</summary>
    public static string WithSuffix(string name)
    {
        var suffix = "_" + RandomNumberGenerator.GetInt32(1000, 100_000).ToString(CultureInfo.InvariantCulture);
        var parts = new List<string>();
        var elements = StringInfo.GetTextElementEnumerator(name);
        while (elements.MoveNext())
        {
            parts.Add((string)elements.Current);
        }

        var stem = string.Concat(parts.Take(DisplayNameRules.MaxLength - suffix.Length)).TrimEnd();
        var candidate = stem + suffix;
        return DisplayNameRules.Check(candidate) == DisplayNameProblem.None ? candidate : Fallback + suffix;
    }
}
