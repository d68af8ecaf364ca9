using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Pan.Server.Phones;
using EmailSyntax = Pan.Server.Email.EmailAddresses;

namespace Pan.Server.Guests;

/// <summary>An account name read as one type: how it is stored and its uniqueness key.</summary>
/// <param name="Type">email, mobile or name.</param>
/// <param name="Value">The stored form: the trimmed email, the E.164 number, or the NFC name.</param>
/// <param name="Key">The uniqueness key: "e:" + lower-cased email, "m:" + E.164, "n:" + NFKC case-folded name.</param>
public sealed record AccountName(string Type, string Value, string Key);

/// <summary>
/// Account names of the apinode endpoints. An email is checked like every Pan email (and is unique among all members);
/// a mobile number is normalised to E.164 with libphonenumber (numbers without "+" are read in
/// <c>Pan:Guests:DefaultRegion</c>); a plain name is 3–32 characters of letters, digits, '_', '-' and '.' of any script,
/// compared width- and case-insensitively.
/// </summary>
public sealed class AccountNames(PhoneNumbers phones, IOptions<GuestOptions> options)
{
    public const int MinNameLength = 3;
    public const int MaxNameLength = 32;

    /// <summary><paramref name="input"/> read as <paramref name="type"/>, or null when it is not one.</summary>
    public AccountName? Parse(string type, string? input) => type switch
    {
        AccountNameTypes.Email => Email(input),
        AccountNameTypes.Mobile => Mobile(input),
        AccountNameTypes.Name => Name(input),
        _ => null,
    };

    public AccountName? Email(string? input) =>
        EmailSyntax.Normalize(input) is { } email ? new AccountName(AccountNameTypes.Email, email, "e:" + EmailSyntax.Key(email)) : null;

    public AccountName? Mobile(string? input)
    {
        var text = input?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var number = text[0] is '+' or '\uFF0B' ? phones.Parse(null, text) : phones.Parse(options.Value.DefaultRegion, text);
        return number is null ? null : new AccountName(AccountNameTypes.Mobile, number.E164, "m:" + number.E164);
    }

    public static AccountName? Name(string? input)
    {
        var text = input?.Trim().Normalize(NormalizationForm.FormC);
        if (string.IsNullOrEmpty(text) || text.Length > MaxNameLength * 4)
        {
            return null;
        }

        var length = new StringInfo(text).LengthInTextElements;
        if (length is < MinNameLength or > MaxNameLength || !text.EnumerateRunes().All(IsNameRune))
        {
            return null;
        }

        return new AccountName(AccountNameTypes.Name, text, "n:" + text.Normalize(NormalizationForm.FormKC).ToLower(CultureInfo.InvariantCulture));
    }

    /// <summary>Every reading of a sign-in name, the app's own type first (an input may be read several ways).</summary>
    public IReadOnlyList<AccountName> Candidates(string preferredType, string? input)
    {
        var found = new List<AccountName>();
        foreach (var type in AccountNameTypes.All.OrderBy(t => t == preferredType ? 0 : 1))
        {
            if (Parse(type, input) is { } name)
            {
                found.Add(name);
            }
        }

        return found;
    }

    private static bool IsNameRune(Rune rune) =>
        Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark => true,
            _ => rune.Value is '_' or '-' or '.',
        };
}
