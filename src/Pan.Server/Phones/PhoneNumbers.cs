extern alias libphonenumber;

using System.Globalization;
using Pan.Server.Errors;
using Pan.Server.Members;
using NumberParseException = libphonenumber::PhoneNumbers.NumberParseException;
using PhoneNumberFormat = libphonenumber::PhoneNumbers.PhoneNumberFormat;
using PhoneNumberType = libphonenumber::PhoneNumbers.PhoneNumberType;
using PhoneNumberUtil = libphonenumber::PhoneNumbers.PhoneNumberUtil;

namespace Pan.Server.Phones;

/// <summary>A phone number normalised to E.164.</summary>
/// <param name="E164">For example +886912345678.</param>
/// <param name="CountryCode">The country calling code, for example 886.</param>
/// <param name="RegionCode">The ISO region, for example TW.</param>
public sealed record PhoneNumber(string E164, int CountryCode, string RegionCode)
{
    /// <summary>The last digits only, for logs and messages (never log a full number).</summary>
    public string Suffix => E164.Length > 3 ? E164[^3..] : E164;
}

/// <summary>Parses user input (country code + number) into E.164 with libphonenumber.</summary>
public sealed class PhoneNumbers
{
    /// <summary>Longest accepted number as typed, formatting included (E.164 itself is at most 16 characters).</summary>
    public const int MaxValueLength = 40;

    /// <summary>Longest accepted country code as typed ("+1684" or "TW").</summary>
    public const int MaxCountryCodeLength = 5;

    // libphonenumber's region for unknown calling codes, and for non-geographic ones such as +800.
    private const string UnknownRegion = "ZZ";
    private const string NonGeographicRegion = "001";

    /// <summary>The field description of a valid number that is refused as an SMS destination.</summary>
    public const string CannotReceiveSms =
        "cannot receive SMS: give a mobile number (fixed-line, toll-free, premium-rate, shared-cost, VoIP, personal, pager, UAN and voicemail numbers are refused)";

    /// <summary>The field description of input that is no phone number of the given country.</summary>
    public const string InvalidForCountry = "is not a valid phone number for the given country code";

    private const string Separators = " \u00A0\u3000-\u2010\u2011\u2012\u2013\u2014\uFF0D()\uFF08\uFF09.\uFF0E/";

    private readonly PhoneNumberUtil util = PhoneNumberUtil.GetInstance();

    /// <summary>
    /// Parses <paramref name="value"/>; <paramref name="countryCode"/> is a calling code ("886", "+886") or an ISO
    /// region ("TW") and may be empty when the value starts with "+". Returns null for anything that is not a valid number.
    /// </summary>
    /// <remarks>
    /// Digits may be full-width (e.g. typed with a CJK input method). A value in international form ("+852…") must agree
    /// with a given country code. Letters (vanity numbers) and oversized input are refused before libphonenumber runs.
    /// </remarks>
    public PhoneNumber? Parse(string? countryCode, string? value) => Read(countryCode, value, forSms: false, out _);

    /// <summary>
    /// Like <see cref="Parse"/>, for a number a user types to receive SMS codes or to become an account's sign-in phone:
    /// only a number libphonenumber types MOBILE, or FIXED_LINE_OR_MOBILE (plans such as +1 where the two cannot be told
    /// apart), is returned. For any other valid number the result is null and <paramref name="cannotReceiveSms"/> is true.
    /// </summary>
    /// <remarks>
    /// Why so narrow: fixed-line numbers never get the code (a dead end and a paid send for nothing); toll-free,
    /// premium-rate, shared-cost and UAN numbers are the ranges SMS pumping (toll fraud) sends to. VOIP is refused: where a
    /// plan gives VoIP its own range (+44 56, …) those numbers mostly take no SMS and are rented in bulk for pumping, while
    /// VoIP numbers that do take SMS in the +1 plan are FIXED_LINE_OR_MOBILE and accepted. PERSONAL_NUMBER (+44 70,
    /// +886 99 in libphonenumber's metadata) is refused: it is a forwarding service, often charged above a mobile, and a
    /// known fraud range. Numbers already stored are not re-checked (<see cref="FromE164"/>).
    /// </remarks>
    public PhoneNumber? ParseForSms(string? countryCode, string? value, out bool cannotReceiveSms) =>
        Read(countryCode, value, forSms: true, out cannotReceiveSms);

    /// <summary>
    /// <see cref="ParseForSms"/> for a request field, or INVALID_ARGUMENT naming <paramref name="field"/>: with
    /// <see cref="CannotReceiveSms"/> for a valid number that takes no SMS, with <paramref name="invalid"/> otherwise.
    /// </summary>
    public PhoneNumber SmsDestination(string? countryCode, string? value, string field, string invalid = InvalidForCountry) =>
        ParseForSms(countryCode, value, out var cannotReceiveSms)
            ?? throw PanError.InvalidArgument(field, cannotReceiveSms ? CannotReceiveSms : invalid);

    /// <summary>
    /// <see cref="SmsDestination(string?, string?, string, string)"/> for a phase flow's pair of fields, naming the one at
    /// fault: an empty number is <paramref name="valueField"/> "is required"; a national number (no leading "+") with
    /// no country code, or a country code that is no calling code or region, is <paramref name="countryField"/>.
    /// </summary>
    /// <remarks>
    /// Why the country code field: "0912345678" alone is a number of no country, and "TWN" is the code's fault; naming
    /// the number there sent callers to fix what was right. Only the input is read: nothing is looked up.
    /// </remarks>
    public PhoneNumber SmsDestinationWithCountry(string? countryCode, string? value, string countryField, string valueField)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw PanError.InvalidArgument(valueField, "is required");
        }

        var country = countryCode?.Trim() ?? string.Empty;
        var international = value.TrimStart()[0] is '+' or '\uFF0B';
        if (country.Length == 0 && !international)
        {
            throw PanError.InvalidArgument(
                countryField, $"is required unless {valueField} starts with + (a calling code such as 886, or a region such as TW)");
        }

        if (country.Length > 0 && ((countryCode?.Length ?? 0) > MaxCountryCodeLength || !TryRegionOf(country, out _, out _)))
        {
            throw PanError.InvalidArgument(countryField, "is not a country calling code (886, +886) or region (TW)");
        }

        return SmsDestination(countryCode, value, valueField, country.Length == 0 ? "is not a valid phone number" : InvalidForCountry);
    }

    private PhoneNumber? Read(string? countryCode, string? value, bool forSms, out bool cannotReceiveSms)
    {
        cannotReceiveSms = false;
        // Why: absurd input is refused on its raw length, before any work is done on it.
        if (value is null || value.Length > MaxValueLength || (countryCode?.Length ?? 0) > MaxCountryCodeLength)
        {
            return null;
        }

        var input = value.Trim();
        var country = countryCode?.Trim() ?? string.Empty;
        if (input.Length == 0 || !IsPhoneText(input))
        {
            return null;
        }

        var international = input[0] is '+' or '\uFF0B';
        if (country.Length == 0 && !international)
        {
            return null;
        }

        string? defaultRegion = null;
        int? expectedCallingCode = null;
        if (country.Length > 0)
        {
            if (!TryRegionOf(country, out defaultRegion, out expectedCallingCode))
            {
                return null;
            }
        }

        try
        {
            var number = util.Parse(input, international ? null : defaultRegion);
            if (!util.IsValidNumber(number) || (expectedCallingCode is { } code && number.CountryCode != code))
            {
                return null;
            }

            // Why only for SMS: the type costs another pass over the metadata, and stored numbers are not re-typed.
            if (forSms && util.GetNumberType(number) is not (PhoneNumberType.MOBILE or PhoneNumberType.FIXED_LINE_OR_MOBILE))
            {
                cannotReceiveSms = true;
                return null;
            }

            var region = util.GetRegionCodeForNumber(number) ?? NonGeographicRegion;
            return new PhoneNumber(util.Format(number, PhoneNumberFormat.E164), number.CountryCode, region);
        }
        catch (NumberParseException)
        {
            return null;
        }
    }

    /// <summary>Re-reads a number stored in E.164 (for example <c>Account.PhoneE164</c>); null if it is not a valid number.</summary>
    public PhoneNumber? FromE164(string? e164) => Parse(null, e164);

    /// <summary>
    /// Resolves a country setting ("886", "+886" or "TW") to the region libphonenumber parses national numbers with,
    /// and the calling code the number must have. False for unknown codes and regions.
    /// </summary>
    public bool TryRegionOf(string countryCode, out string? region, out int? callingCode)
    {
        region = null;
        callingCode = null;
        // Why: NFKC folds full-width input ("８８６", "ＴＷ", "＋") to ASCII; the country code is a few characters long.
        var text = UnicodeText.Normalize(countryCode, System.Text.NormalizationForm.FormKC).Trim().TrimStart('+');
        if (text.Length is >= 1 and <= 4 && text.All(char.IsAsciiDigit))
        {
            var code = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
            var main = util.GetRegionCodeForCountryCode(code);
            if (main == UnknownRegion)
            {
                return false;
            }

            // Why: non-geographic codes (+800, +882…) have no region; libphonenumber reads them only in "+" form.
            region = main == NonGeographicRegion ? null : main;
            callingCode = code;
            return true;
        }

        var upper = text.ToUpperInvariant();
        if (text.Length == 2 && util.GetSupportedRegions().Contains(upper))
        {
            region = upper;
            callingCode = util.GetCountryCodeForRegion(upper);
            return true;
        }

        return false;
    }

    private static bool IsPhoneText(string input)
    {
        for (var i = 0; i < input.Length; i++)
        {
            var c = input[i];
            var ok = char.IsDigit(c) || Separators.Contains(c, StringComparison.Ordinal) || (i == 0 && c is '+' or '\uFF0B');
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
