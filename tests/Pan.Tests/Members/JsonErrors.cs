using System.Net.Http.Json;
using System.Text.Json;

namespace Pan.Tests.Members;

/// <summary>Reads Pan's error model off an HTTP/JSON error response.</summary>
public static class JsonErrors
{
    /// <summary>The ErrorInfo reason (e.g. ErrMe.TOKEN_INVALID) of a failed JSON call.</summary>
    public static async Task<string?> ReasonAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("details").EnumerateArray()
            .Single(d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.ErrorInfo")
            .GetProperty("reason").GetString();
    }

    /// <summary>The fields named by the BadRequest detail of a failed JSON call.</summary>
    public static async Task<List<string?>> FieldsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("details").EnumerateArray()
            .Single(d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.BadRequest")
            .GetProperty("fieldViolations").EnumerateArray().Select(v => v.GetProperty("field").GetString()).ToList();
    }
}
