using System.Globalization;
using System.Text;
using Pan.Server.Members;

namespace Pan.Server.DisplayNames;

/// <summary>What can be wrong with a proposed display name.</summary>
public enum DisplayNameProblem
{
    None,
    Length,
    SpecialCharacter,
}

/// <summary>
/// The rules for display names, shared by registration, new members and the validation RPCs.
/// A name is 2–20 characters (user-perceived characters, so "王小明" is 3) of letters, digits and combining marks of
/// any script, with single inner spaces, '_', '-' and '.', and fits its columns: at most 64 code points, and at most
/// 128 in its uniqueness key. Uniqueness is judged on a key that folds width and case
/// (NFKC, then lower case), so "Ａｌｉｃｅ", "ALICE" and "alice" are the same name.
/// </summary>
public static class DisplayNameRules
{
    public const int MinLength = 2;
    public const int MaxLength = 20;

    /// <summary>Most code points a stored name may hold: the width of <c>members.display_name</c> (varchar(64)).</summary>
    public const int MaxStoredCodePoints = 64;

    /// <summary>Most code points a name's <see cref="Key"/> may hold: the width of <c>members.display_name_key</c> (varchar(128)).</summary>
    public const int MaxKeyCodePoints = 128;

    /// <summary>The trimmed, NFC-normalised form that is stored and shown.</summary>
    public static string Clean(string? name) => UnicodeText.Normalize((name ?? string.Empty).Trim(), NormalizationForm.FormC);

    public static DisplayNameProblem Check(string? name)
    {
        var clean = Clean(name);
        // Why: refuse absurd input before any per-character work.
        if (clean.Length > MaxLength * 8)
        {
            return DisplayNameProblem.Length;
        }

        var length = new StringInfo(clean).LengthInTextElements;
        if (length < MinLength || length > MaxLength)
        {
            return DisplayNameProblem.Length;
        }

        var previousSpace = false;
        foreach (var rune in clean.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            var ok = category switch
            {
                UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                    or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
                UnicodeCategory.DecimalDigitNumber => true,
                UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark => true,
                _ => rune.Value is '_' or '-' or '.' or ' ' or '\u30FB', // ・ (katakana middle dot) is common in CJK names
            };
            if (!ok || (rune.Value == ' ' && previousSpace))
            {
                return DisplayNameProblem.SpecialCharacter;
            }

            previousSpace = rune.Value == ' ';
        }

        // Why: 20 user-perceived characters may still be more than the columns hold (a letter with several combining
        // marks is one character, and NFKC spells out a ligature letter such as U+FDFA in 18); PostgreSQL refuses such a
        // value, which turned a name these rules accepted into INTERNAL when it was written.
        return Fits(clean) ? DisplayNameProblem.None : DisplayNameProblem.Length;
    }

    /// <summary>Whether the name and its uniqueness key fit their columns (<see cref="MaxStoredCodePoints"/>, <see cref="MaxKeyCodePoints"/>).</summary>
    public static bool Fits(string name)
    {
        var clean = Clean(name);
        return clean.EnumerateRunes().Count() <= MaxStoredCodePoints && Key(clean).EnumerateRunes().Count() <= MaxKeyCodePoints;
    }

    /// <summary>The uniqueness key: compatibility-normalised (full-width → half-width) and case-folded.</summary>
    public static string Key(string name) =>
        Clean(name).Normalize(NormalizationForm.FormKC).ToLower(CultureInfo.InvariantCulture);
}
