using System.Text.Json;

namespace Pan.Server.Network;

/// <summary>
/// Reading fields of the JSON that outside services send (Google tokeninfo, social providers), which spell the same
/// value as a string, a number or a boolean depending on the service.
/// </summary>
public static class JsonFields
{
    /// <summary>A string, number or boolean property as text; null when absent, null or another kind.</summary>
    public static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            }
            : null;

    /// <summary>True for JSON true or the string "true" (any case).</summary>
    public static bool Flag(JsonElement root, string name) =>
        string.Equals(Text(root, name), "true", StringComparison.OrdinalIgnoreCase);
}
