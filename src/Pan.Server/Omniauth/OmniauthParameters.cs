using System.Globalization;
using System.Text.Json;

namespace Pan.Server.Omniauth;

/// <summary>
/// The parameters of one social-login request, from a form body (<c>application/x-www-form-urlencoded</c> or
/// multipart) or a JSON object body. JSON strings are taken as is; numbers and booleans as their text.
/// </summary>
public sealed class OmniauthParameters
{
    /// <summary>Largest accepted body; no legitimate request comes near it.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>Longest accepted value (tokens, secrets, emails, passwords; recaptcha_token: 8192); longer is refused before any work.</summary>
    public const int MaxValueLength = 4096;

    private readonly Dictionary<string, string> values;

    private OmniauthParameters(Dictionary<string, string> values) => this.values = values;

    public static async Task<OmniauthParameters> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw OmniauthException.BadParameter("body", "is too large");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidDataException || (ex is IOException && !cancellationToken.IsCancellationRequested))
            {
                // ASP.NET Core's form reader: a value with NUL (%00), a multipart body without a boundary or with a bad part
                // (InvalidDataException), or one that ends before its closing boundary (IOException).
                throw OmniauthException.BadParameter("body", "could not be read");
            }

            foreach (var (key, value) in form)
            {
                values[key] = value.ToString();
            }
        }
        else if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            JsonDocument json;
            try
            {
                json = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            }
            catch (JsonException)
            {
                throw OmniauthException.BadParameter("body", "is not valid JSON");
            }

            using (json)
            {
                if (json.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw OmniauthException.BadParameter("body", "must be a JSON object");
                }

                foreach (var property in json.RootElement.EnumerateObject())
                {
                    var name = NameOf(property);
                    if (Text(name, property.Value) is { } text)
                    {
                        values[name] = text;
                    }
                }
            }
        }
        else if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            throw OmniauthException.BadParameter("body", "must be a form or a JSON object");
        }

        foreach (var (key, value) in values)
        {
            // Why the exception: reCAPTCHA tokens can exceed 4096 characters; the verifier has its own bound.
            var max = key == EmailExistedCaptcha.TokenParameter ? Captcha.CaptchaVerifier.MaxTokenLength : MaxValueLength;
            if (value.Length > max)
            {
                throw OmniauthException.BadParameter(key, "is too long");
            }
        }

        return new OmniauthParameters(values);
    }

    /// <summary>The trimmed value, or null when absent or blank.</summary>
    public string? Optional(string name) =>
        values.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    /// <summary>The value as sent (not trimmed: passwords keep their spaces), or null when absent or empty.</summary>
    public string? Raw(string name) => values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    public string Required(string name) => Optional(name) ?? throw OmniauthException.BadParameter(name, "is required");

    // Why the catches: JsonDocument does not check the text inside strings; reading one that is invalid UTF-8 or holds an
    // unpaired surrogate escape ("\ud800") throws InvalidOperationException. Such a parameter is refused by name.
    private static string NameOf(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            throw OmniauthException.BadParameter("body", "holds a name that is not valid text");
        }
    }

    private static string? Text(string name, JsonElement value)
    {
        try
        {
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };
        }
        catch (InvalidOperationException)
        {
            throw OmniauthException.BadParameter(name, "is not valid text");
        }
    }
}
