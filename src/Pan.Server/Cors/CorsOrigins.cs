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
            if (uri.IsLoopback && uri.HostNameType == UriHostNameType.Dns)
            {
                // Why the written name: Uri turns the name "loopback" into "localhost", and a browser sends it as written.
                host = text[(authority + 3)..].Split(':')[0].ToLowerInvariant();
            }
        }
        catch (UriFormatException)
        {
            // A host with a character IDNA refuses (a zero-width joiner, say) has no ASCII form, so it is no origin.
            return null;
        }

        return uri.IsDefaultPort ? $"{uri.Scheme}://{host}" : $"{uri.Scheme}://{host}:{uri.Port}";
    }

    /// <summary>
    /// Whether a normalised origin (<see cref="Normalize"/>) is https, or http on a loopback host: <c>localhost</c>, an
    /// address in 127.0.0.0/8 or <c>[::1]</c> (the rule of an app's event URL).
    /// </summary>
    public static bool IsSecureOrLoopback(string origin)
    {
        if (origin.StartsWith("https://", StringComparison.Ordinal))
        {
            return true;
        }

        // Why the host is cut from the text and not read from Uri: Uri takes the name "loopback" for localhost too, and
        // DNS may resolve that name anywhere.
        var rest = origin["http://".Length..];
        var host = rest.StartsWith('[') ? rest[1..rest.IndexOf(']', StringComparison.Ordinal)] : rest.Split(':')[0];
        return host == "localhost" || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));
    }
}
