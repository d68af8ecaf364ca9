using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Pan.Server.Members;
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

    /// <summary>
    /// <paramref name="input"/> read as a new account name of <paramref name="type"/>, or null when it is not one (a mobile
    /// name must be a number that can receive SMS, see <see cref="NewMobile"/>).
    /// </summary>
    public AccountName? Parse(string type, string? input) => type switch
    {
        AccountNameTypes.Email => Email(input),
        AccountNameTypes.Mobile => NewMobile(input),
        AccountNameTypes.Name => Name(input),
        _ => null,
    };

    public AccountName? Email(string? input) =>
        EmailSyntax.Normalize(input) is { } email ? new AccountName(AccountNameTypes.Email, email, "e:" + EmailSyntax.Key(email)) : null;

    /// <summary>A mobile name to look up (sign-in, activation codes): any valid number, so names stored earlier keep working.</summary>
    public AccountName? Mobile(string? input) => Mobile(input, forSms: false);

    /// <summary>
    /// A mobile name or <c>mobile</c> to store: only numbers that can receive SMS (<see cref="PhoneNumbers.ParseForSms"/>),
    /// as apinode's code 5 "must be a mobile number" says; activation codes go to it and it may become a sign-in phone.
    /// </summary>
    public AccountName? NewMobile(string? input) => Mobile(input, forSms: true);

    private AccountName? Mobile(string? input, bool forSms)
    {
        var text = input?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var region = text[0] is '+' or '\uFF0B' ? null : options.Value.DefaultRegion;
        var number = forSms ? phones.ParseForSms(region, text, out _) : phones.Parse(region, text);
        return number is null ? null : new AccountName(AccountNameTypes.Mobile, number.E164, Accounts.PhoneClaims.MobileNameKey(number.E164));
    }

    public static AccountName? Name(string? input)
    {
        var text = input is null ? null : UnicodeText.Normalize(input.Trim(), NormalizationForm.FormC);
        if (string.IsNullOrEmpty(text) || text.Length > MaxNameLength * 4)
        {
            return null;
        }

        var length = new StringInfo(text).LengthInTextElements;
        if (length is < MinNameLength or > MaxNameLength || !text.EnumerateRunes().All(IsNameRune))
        {
            return null;
        }

        // Why the second bound: compatibility folding can make one letter many (U+FDFA becomes 18 characters), and the
        // folded key must fit its column (guest_accounts.account_key) like every other name's.
        var folded = text.Normalize(NormalizationForm.FormKC).ToLower(CultureInfo.InvariantCulture);
        return folded.Length > MaxNameLength * 4 ? null : new AccountName(AccountNameTypes.Name, text, "n:" + folded);
    }

    /// <summary>Every reading of a sign-in name, the app's own type first (an input may be read several ways).</summary>
    public IReadOnlyList<AccountName> Candidates(string preferredType, string? input)
    {
        var found = new List<AccountName>();
        foreach (var type in AccountNameTypes.All.OrderBy(t => t == preferredType ? 0 : 1))
        {
            if ((type == AccountNameTypes.Mobile ? Mobile(input) : Parse(type, input)) is { } name)
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
