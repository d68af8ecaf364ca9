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
    /// <summary>
    /// Parses <paramref name="value"/>; <paramref name="countryCode"/> is a calling code ("886", "+886") or an ISO
    /// region ("TW") and may be empty when the value starts with "+". Returns null for anything that is not a valid number.
    /// </summary>
    public PhoneNumber? Parse(string? countryCode, string? value) => throw new NotImplementedException("SMS/phones helper");
}
