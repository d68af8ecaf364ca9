using Pan.General.Application;

namespace Pan.Server.Members;

/// <summary>The family's apps (the seed's <c>pan.general.application.AppId.Value</c>), accepted by name ("jkforum") or number ("1").</summary>
public static class AppIds
{
    /// <summary>The canonical (lower-case name) form of <paramref name="appId"/>, or null when it names no known app.</summary>
    public static string? Normalize(string? appId)
    {
        if (string.IsNullOrWhiteSpace(appId))
        {
            return null;
        }

        var descriptor = AppId.Descriptor.EnumTypes[0];
        var value = int.TryParse(appId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? descriptor.FindValueByNumber(n)
            : descriptor.Values.FirstOrDefault(v => string.Equals(v.Name, appId.Trim(), StringComparison.OrdinalIgnoreCase));
        return value is null || value.Number == 0 ? null : value.Name;
    }
}
