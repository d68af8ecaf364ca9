using System.Globalization;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;

namespace Pan.Server.Links;

/// <summary>
/// Builds the links Pan mails (always from <c>Pan:Links:PublicBaseUrl</c>) and checks redirect targets against
/// <c>Pan:Links:AllowedRedirectHosts</c>: an absolute http(s) URL without user info, at most 2048 characters, whose
/// host is listed exactly or matches a "*.suffix" entry.
/// </summary>
public sealed class LinkBuilder(IOptions<LinksOptions> options)
{
    public const int MaxRedirectLength = 2048;

    /// <summary>The hosted page at <paramref name="path"/> (e.g. /account/verify-email) carrying <paramref name="token"/>.</summary>
    public Uri Page(string path, string token)
    {
        var root = options.Value.PublicBaseUrl!.TrimEnd('/');
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"{root}{path}?token={Uri.EscapeDataString(token)}"));
    }

    /// <summary>
    /// Checks an optional redirect target: empty means "none" (null); anything else must be allowed, or the call fails
    /// with INVALID_ARGUMENT naming <paramref name="field"/>.
    /// </summary>
    public Uri? Redirect(string? value, string field) =>
        TryRedirect(value, out var uri)
            ? uri
            : throw PanError.InvalidArgument(field, "must be an absolute http(s) URL on an allowed host (Pan:Links:AllowedRedirectHosts)");

    /// <summary>False when <paramref name="value"/> is set but not an allowed target; true with null for an empty value.</summary>
    public bool TryRedirect(string? value, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }

        if (value.Length > MaxRedirectLength || !Uri.TryCreate(value, UriKind.Absolute, out var parsed)
            || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(parsed.UserInfo) || !IsAllowedHost(parsed.IdnHost))
        {
            return false;
        }

        uri = parsed;
        return true;
    }

    private bool IsAllowedHost(string host)
    {
        foreach (var raw in options.Value.AllowedRedirectHosts)
        {
            var entry = raw.Trim();
            if (entry.StartsWith("*.", StringComparison.Ordinal))
            {
                var suffix = new IdnMapping().GetAscii(entry[2..]);
                if (host.Length > suffix.Length + 1 && host.EndsWith("." + suffix, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
            else if (string.Equals(host, new IdnMapping().GetAscii(entry), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
