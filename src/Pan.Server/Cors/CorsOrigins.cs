namespace Pan.Server.Cors;

/// <summary>Web origins in the form browsers send them (RFC 6454 serialisation).</summary>
public static class CorsOrigins
{
    /// <summary>
    /// <paramref name="value"/> as <c>scheme://host[:port]</c>: scheme and host lower-cased, an internationalised host
    /// in its ASCII (punycode) form, the scheme's default port dropped, one trailing slash tolerated. Null when it is
    /// not an http(s) origin: a path, query, fragment, user info, wildcard, another scheme, or the opaque <c>null</c>.
    /// </summary>
    public static string? Normalize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Contains('*', StringComparison.Ordinal))
        {
            return null;
        }

        var text = value.Trim();
        if (text.EndsWith('/'))
        {
            text = text[..^1];
        }

        var authority = text.IndexOf("://", StringComparison.Ordinal);
        // Why the raw text is checked too: Uri would make "https://a.example/." or "https:\\a.example" look like an origin.
        if (authority <= 0 || text.IndexOfAny(['/', '\\', '?', '#', '@'], authority + 3) >= 0
            || !Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.HostNameType is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6)
            || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.AbsolutePath != "/")
        {
            return null;
        }

        // Why Host for IPv6: it keeps the brackets an origin has (IdnHost drops them).
        string host;
        try
        {
            host = (uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost).ToLowerInvariant();
        }
        catch (UriFormatException)
        {
            // A host with a character IDNA refuses (a zero-width joiner, say) has no ASCII form, so it is no origin.
            return null;
        }

        return uri.IsDefaultPort ? $"{uri.Scheme}://{host}" : $"{uri.Scheme}://{host}:{uri.Port}";
    }
}
