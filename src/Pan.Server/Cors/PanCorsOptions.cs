using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Pan.Server.Cors;

/// <summary><c>Pan:Cors:*</c>: which web origins (the family's browser apps) may call Pan's API from a browser.</summary>
public sealed class PanCorsOptions
{
    public const string Section = "Pan:Cors";

    public const string AllowedOriginsSetting = "Pan:Cors:AllowedOrigins";

    /// <summary>
    /// Exact origins, <c>scheme://host[:port]</c> (<c>https://forum.example</c>, <c>http://localhost:5173</c>), compared
    /// lower-cased with default ports dropped. Empty (the default): no origin, and no CORS header is ever sent.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>How long a browser may keep a preflight's answer (<c>Access-Control-Max-Age</c>).</summary>
    [Range(0, 86400, ErrorMessage = "Pan:Cors:MaxAgeSeconds must be between 0 and 86400.")]
    public int MaxAgeSeconds { get; set; } = 600;
}

/// <summary>Start-up rules for <c>Pan:Cors:AllowedOrigins</c>; each failure names the entry by its index.</summary>
internal sealed class PanCorsOptionsValidator : IValidateOptions<PanCorsOptions>
{
    public ValidateOptionsResult Validate(string? name, PanCorsOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            var entry = options.AllowedOrigins[i];
            var setting = $"{PanCorsOptions.AllowedOriginsSetting}:{i}";
            if (string.IsNullOrWhiteSpace(entry))
            {
                failures.Add($"{setting} is empty; remove it or name an origin such as https://forum.example.");
            }
            else if (entry.Contains('*', StringComparison.Ordinal))
            {
                // Why refused: any site could then make its visitors' browsers call Pan (sign-ups, SMS sends, existence
                // checks) from their addresses, past the per-address limits.
                failures.Add($"{setting} '{entry.Trim()}' is refused: wildcards would let any web page drive sign-ups, SMS sends and existence checks through its visitors' browsers; list each browser app's origin exactly (https://forum.example).");
            }
            else if (CorsOrigins.Normalize(entry) is not { } origin)
            {
                failures.Add($"{setting} '{entry.Trim()}' must be an origin: http or https, a host and an optional port, without path, query, fragment or user info (https://forum.example, http://localhost:5173).");
            }
            else if (!CorsOrigins.IsSecureOrLoopback(origin))
            {
                // Why: a page served over plain http can be rewritten by anyone on its network path, who would then call
                // Pan as that app from the visitor's browser; only a developer's own machine is spared.
                failures.Add($"{setting} '{entry.Trim()}' must be https: plain http is allowed only for a loopback host (localhost, 127.0.0.0/8, [::1]).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
