using System.Text.Json;
using Pan.Server.Accounts;
using Pan.Server.DisplayNames;

namespace Pan.Server.Guests;

/// <summary>The optional profile parameters shared by createTemp and convertTemp, checked.</summary>
public sealed record GuestProfile(string? DisplayName, string? FirstName, string? LastName, string? Address, string? Aux, string? Locale);

/// <summary>Reads and checks <c>dspName</c>, <c>fname</c>, <c>lname</c>, <c>addr</c>, <c>aux</c> and <c>_loc</c>.</summary>
public static class GuestProfileInput
{
    public const int MaxNameLength = 100;
    public const int MaxAddressLength = 500;
    public const int MaxAuxLength = 8192;

    /// <summary>Code 6: dspName breaks the display-name rules.</summary>
    public const int BadDisplayName = 6;

    /// <summary>The checked profile; −16 for an oversized field, a control character in fname/lname/addr, non-JSON aux or unknown _loc; 6 for a bad dspName.</summary>
    public static GuestProfile Read(ApinodeRequest request)
    {
        var displayName = request.Text("dspName");
        if (displayName is not null && DisplayNameRules.Check(displayName) != DisplayNameProblem.None)
        {
            throw new ApinodeException(BadDisplayName, $"dspName must be {DisplayNameRules.MinLength} to {DisplayNameRules.MaxLength} letters, digits, spaces, '_', '-' or '.'.");
        }

        return new GuestProfile(
            displayName is null ? null : DisplayNameRules.Clean(displayName),
            Limited(request, "fname", MaxNameLength),
            Limited(request, "lname", MaxNameLength),
            Limited(request, "addr", MaxAddressLength),
            Aux(request),
            Locale(request));
    }

    /// <summary><c>_loc</c> 1 = English, 2 = Traditional Chinese; else <c>x-deva-locale</c>; else null (the app's language).</summary>
    public static string? Locale(ApinodeRequest request)
    {
        switch (request.Text("_loc"))
        {
            case "1":
                return Locales.English;
            case "2":
                return Locales.TraditionalChinese;
            case null:
                break;
            default:
                throw new ApinodeException(ApinodeCodes.WrongParameter, "_loc must be 1 (English) or 2 (Traditional Chinese).");
        }

        var header = request.Header(ApinodeRequest.LocaleHeader)?.ToLowerInvariant();
        return header switch
        {
            "1" or "en" or "en-us" or "en-gb" => Locales.English,
            "2" or "zh" or "zh-tw" or "zh-hant" or "zh-hant-tw" or "zh-hk" => Locales.TraditionalChinese,
            _ => null,
        };
    }

    private static string? Limited(ApinodeRequest request, string name, int max)
    {
        var value = request.Text(name);
        if (value is { Length: var length } && length > max)
        {
            throw new ApinodeException(ApinodeCodes.WrongParameter, $"{name} must be at most {max} characters.");
        }

        // Why: a NUL cannot be stored in a PostgreSQL text column (the insert would fail as an internal error), and no
        // other control character belongs in a name or an address; line breaks and tabs may appear in an address.
        return value is not null && value.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
            ? throw new ApinodeException(ApinodeCodes.WrongParameter, $"{name} must not hold control characters.")
            : value;
    }

    private static string? Aux(ApinodeRequest request)
    {
        var value = request.Text("aux");
        if (value is null)
        {
            return null;
        }

        if (value.Length > MaxAuxLength)
        {
            throw new ApinodeException(ApinodeCodes.WrongParameter, $"aux must be at most {MaxAuxLength} characters.");
        }

        try
        {
            using var document = JsonDocument.Parse(value, new JsonDocumentOptions { MaxDepth = 32 });
            return document.RootElement.GetRawText();
        }
        catch (JsonException)
        {
            throw new ApinodeException(ApinodeCodes.WrongParameter, "aux must be JSON.");
        }
    }
}
