using System.Globalization;
using Microsoft.Extensions.Options;
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

/// <summary>The country lists of the SMS settings, read once: the allow-list and the high-risk countries.</summary>
public sealed class SmsCountries(IOptions<SmsOptions> options, IOptions<SmsRiskOptions> risk, PhoneNumbers phones)
{
    private readonly Lazy<CountrySet> allowed = new(() => CountrySet.Parse(options.Value.AllowedCountries, phones, out _));
    private readonly Lazy<CountrySet> highRisk = new(() => CountrySet.Parse(risk.Value.HighRiskCountries, phones, out _));

    /// <summary>True when <c>Pan:Sms:AllowedCountries</c> is empty or lists the phone's calling code or region.</summary>
    public bool IsAllowed(PhoneNumber phone) => allowed.Value.IsEmpty || allowed.Value.Contains(phone);

    /// <summary>True when <c>Pan:Sms:Risk:HighRiskCountries</c> lists the phone's calling code or region.</summary>
    public bool IsHighRisk(PhoneNumber phone) => highRisk.Value.Contains(phone);
}
