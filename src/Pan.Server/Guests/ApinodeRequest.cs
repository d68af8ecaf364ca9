using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Pan.Server.Guests;

/// <summary>
/// The parameters and headers of one apinode call: from the query string (GET) or the body (POST
/// <c>application/json</c> or <c>application/x-www-form-urlencoded</c>; the query string is read too). JSON values that
/// are not strings keep their JSON text (so <c>aux</c> may be an object or a string holding one).
/// </summary>
public sealed class ApinodeRequest
{
    public const string TokenHeader = "x-deva-token";
    public const string AppCodeHeader = "x-deva-appcode";
    public const string AppKeyHeader = "x-deva-appkey";
    public const string AppSecretHeader = "x-deva-appsecret";
    public const string LocaleHeader = "x-deva-locale";

    /// <summary>Longest accepted parameter name.</summary>
    private const int MaxNameLength = 64;

    private readonly Dictionary<string, string> values;

    private ApinodeRequest(HttpContext http, Dictionary<string, string> values)
    {
        Http = http;
        this.values = values;
    }

    public HttpContext Http { get; }

    /// <summary>A parameter's value (trimmed by the caller where that matters), or null when absent.</summary>
    public string? this[string name] => values.GetValueOrDefault(name);

    /// <summary>A parameter that is present and not blank, else null.</summary>
    public string? Text(string name) => values.GetValueOrDefault(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

    public string? Header(string name) => Http.Request.Headers[name].ToString() is { Length: > 0 } v ? v.Trim() : null;

    /// <summary>The token: header <c>x-deva-token</c>, else parameter <c>_tkn</c>.</summary>
    public string? Token => Header(TokenHeader) ?? Text("_tkn");

    /// <summary>Reads the request, or throws <see cref="ApinodeException"/> (−1 wrong content type, −16 unreadable body).</summary>
    public static async Task<ApinodeRequest> ReadAsync(HttpContext http, int maxBodyBytes, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in http.Request.Query)
        {
            Add(values, key, value.ToString());
        }

        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        {
            return new ApinodeRequest(http, values);
        }

        if (http.Request.ContentLength > maxBodyBytes)
        {
            throw new ApinodeException(ApinodeCodes.WrongParameter, "The request body is too large.");
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBodyBytes;
        }

        var contentType = http.Request.ContentType ?? string.Empty;
        try
        {
            if (http.Request.HasJsonContentType())
            {
                await ReadJsonAsync(http, values, cancellationToken);
            }
            else if (http.Request.HasFormContentType && contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            {
                var form = await http.Request.ReadFormAsync(cancellationToken);
                foreach (var (key, value) in form)
                {
                    Add(values, key, value.ToString());
                }
            }
            else if (contentType.Length == 0 && http.Request.ContentLength is null or 0)
            {
                // A POST without a body: the query string is all there is.
            }
            else
            {
                throw new ApinodeException(ApinodeCodes.WrongContentType, "Request content-type must be 'application/json' or 'application/x-www-form-urlencoded'.");
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or BadHttpRequestException or System.Text.DecoderFallbackException)
        {
            throw new ApinodeException(ApinodeCodes.WrongParameter, "The request body cannot be read.");
        }

        return new ApinodeRequest(http, values);
    }

    private static async Task ReadJsonAsync(HttpContext http, Dictionary<string, string> values, CancellationToken cancellationToken)
    {
        using var document = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = 32 }, cancellationToken);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new ApinodeException(ApinodeCodes.WrongParameter, "The JSON body must be an object.");
        }

        foreach (var property in document.RootElement.EnumerateObject())
        {
            var (name, text) = Read(property);
            if (text is not null)
            {
                Add(values, name, text);
            }
        }
    }

    private static (string Name, string? Text) Read(JsonProperty property)
    {
        try
        {
            return (property.Name, property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString(),
                JsonValueKind.Null => null,
                _ => property.Value.GetRawText(),
            });
        }
        catch (InvalidOperationException)
        {
            // Why: JsonDocument does not check the text inside strings; a name or value that is invalid UTF-8 or holds an
            // unpaired surrogate escape ("\ud800") throws only when read.
            throw new ApinodeException(ApinodeCodes.WrongParameter, "The request body holds text that is not valid Unicode.");
        }
    }

    private static void Add(Dictionary<string, string> values, string key, string value)
    {
        if (key.Length is > 0 and <= MaxNameLength)
        {
            // Why: the body wins over the query string for the same name.
            values[key] = value;
        }
    }
}
