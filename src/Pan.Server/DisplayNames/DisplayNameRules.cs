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
/// any script, with single inner spaces, '_', '-' and '.'. Uniqueness is judged on a key that folds width and case
/// (NFKC, then lower case), so "Ａｌｉｃｅ", "ALICE" and "alice" are the same name.
/// </summary>
public static class DisplayNameRules
{
    public const int MinLength = 2;
    public const int MaxLength = 20;

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

        return DisplayNameProblem.None;
    }

    /// <summary>The uniqueness key: compatibility-normalised (full-width → half-width) and case-folded.</summary>
    public static string Key(string name) =>
        Clean(name).Normalize(NormalizationForm.FormKC).ToLower(CultureInfo.InvariantCulture);
}
