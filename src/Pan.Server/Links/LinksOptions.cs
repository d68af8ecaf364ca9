using System.Globalization;
using Microsoft.Extensions.Options;

namespace Pan.Server.Links;

/// <summary><c>Pan:Links:*</c>: where the links in Pan's emails point, and where browsers may be sent afterwards.</summary>
public sealed class LinksOptions
{
    public const string Section = "Pan:Links";

    /// <summary>
    /// Absolute http(s) URL under which Pan's hosted pages are reachable from the internet, e.g. <c>https://id.example.com</c>
    /// (a path prefix such as <c>https://example.com/pan</c> is kept). Required. Why: links are never built from the
    /// request's Host header, which a client controls.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary><see cref="PublicBaseUrl"/> without a trailing slash.</summary>
    public string Base => (PublicBaseUrl ?? string.Empty).TrimEnd('/');

    /// <summary>
    /// Hosts that redirect targets (<c>redirect</c>, <c>redirect_email</c>, <c>redirect_success</c>, <c>link_to_input</c>)
    /// may point to: an exact host ("app.example.com") or a suffix pattern ("*.example.com", subdomains only).
    /// Empty (the default): every redirect target is refused.
    /// </summary>
    public List<string> AllowedRedirectHosts { get; set; } = [];

    /// <summary>True when <paramref name="entry"/> is a host name, or "*." followed by one.</summary>
    internal static bool IsValidHostEntry(string? entry)
    {
        if (string.IsNullOrWhiteSpace(entry))
        {
            return false;
        }

        var host = entry.Trim();
        if (host.StartsWith("*.", StringComparison.Ordinal))
        {
            host = host[2..];
        }

        try
        {
            host = new IdnMapping().GetAscii(host);
        }
        catch (ArgumentException)
        {
            return false;
        }

        return Uri.CheckHostName(host) is UriHostNameType.Dns or UriHostNameType.IPv4 && !host.Contains('*', StringComparison.Ordinal);
    }
}

/// <summary>Start-up rules for <c>Pan:Links</c>; every failure names its setting.</summary>
internal sealed class LinksOptionsValidator : IValidateOptions<LinksOptions>
{
    public ValidateOptionsResult Validate(string? name, LinksOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.PublicBaseUrl))
        {
            failures.Add("Pan:Links:PublicBaseUrl is required: the absolute http(s) URL of Pan's hosted pages as the internet sees them (e.g. https://id.example.com).");
        }
        else if (!Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment) || !string.IsNullOrEmpty(url.UserInfo))
        {
            failures.Add($"Pan:Links:PublicBaseUrl '{options.PublicBaseUrl}' must be an absolute http(s) URL without user info, query or fragment.");
        }

        var invalid = options.AllowedRedirectHosts.Where(h => !LinksOptions.IsValidHostEntry(h)).ToList();
        if (invalid.Count > 0)
        {
            failures.Add($"Pan:Links:AllowedRedirectHosts: '{string.Join("', '", invalid)}' is not a host name (app.example.com) or a suffix pattern (*.example.com).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
