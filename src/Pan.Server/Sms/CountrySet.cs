using System.Globalization;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>
/// A list of countries from settings: calling codes ("886", "+852") match every number with that code, ISO regions
/// ("TW") match numbers of that region only.
/// </summary>
public sealed class CountrySet
{
    private readonly HashSet<int> callingCodes;
    private readonly HashSet<string> regions;

    private CountrySet(HashSet<int> callingCodes, HashSet<string> regions)
    {
        this.callingCodes = callingCodes;
        this.regions = regions;
    }

    public bool IsEmpty => callingCodes.Count == 0 && regions.Count == 0;

    public bool Contains(PhoneNumber phone) => callingCodes.Contains(phone.CountryCode) || regions.Contains(phone.RegionCode);

    /// <summary>Reads <paramref name="entries"/>; entries that are no known calling code or region end up in <paramref name="invalid"/>.</summary>
    public static CountrySet Parse(IEnumerable<string> entries, PhoneNumbers phones, out List<string> invalid)
    {
        var codes = new HashSet<int>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        invalid = [];
        foreach (var entry in entries)
        {
            var text = entry?.Normalize(System.Text.NormalizationForm.FormKC).Trim() ?? string.Empty;
            if (!phones.TryRegionOf(text, out var region, out var code) || code is null)
            {
                invalid.Add(entry ?? string.Empty);
            }
            else if (text.TrimStart('+').All(char.IsAsciiDigit))
            {
                codes.Add(code.Value);
            }
            else
            {
                names.Add(region!);
            }
        }

        return new CountrySet(codes, names);
    }

    public override string ToString() =>
        string.Join(", ", callingCodes.Select(c => "+" + c.ToString(CultureInfo.InvariantCulture)).Concat(regions));
}
