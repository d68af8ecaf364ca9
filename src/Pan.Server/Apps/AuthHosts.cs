using System.Globalization;
using Pan.Data.Apps;
using Pan.Data.HandOff;

namespace Pan.Server.Apps;

/// <summary>
/// The hosts an app's <c>auth_url</c>s may point to, and the check of an <c>auth_url</c> against them. Hosts match
/// exactly (case-insensitive, internationalised names compared in their ASCII form; no wildcards; the port is not part
/// of the match). An <c>auth_url</c> must be absolute https (http only for loopback hosts, for development), carry no
/// user info, no control or white-space character, and be at most <see cref="MaxUrlLength"/> characters.
/// </summary>
public static class AuthHosts
{
    /// <summary>Longest accepted <c>auth_url</c>: the size of its column.</summary>
    public const int MaxUrlLength = StoredLoginToken.AuthUrlLength;
    public const int MaxHosts = 20;

    private static readonly IdnMapping Idn = new();

    /// <summary>The stored form (lower-case ASCII host names, comma-separated) of an operator's list, or an error message.</summary>
    public static (string? Stored, string? Problem) Parse(string? list)
    {
        var hosts = new List<string>();
        foreach (var part in (list ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (Normalize(part) is not { } host)
            {
                return (null, $"'{part}' is not a host name (give bare names such as www.example.com, without scheme, port or path)");
            }

            if (!hosts.Contains(host, StringComparer.Ordinal))
            {
                hosts.Add(host);
            }
        }

        var stored = string.Join(',', hosts);
        return hosts.Count > MaxHosts ? (null, $"at most {MaxHosts} hosts")
            // Why: the registry column holds this many; a longer list failed the save on PostgreSQL (SQLite kept it).
            : stored.Length > StoredApp.AuthHostsLength ? (null, $"at most {StoredApp.AuthHostsLength} characters in all (comma-separated)")
            : (stored, null);
    }

    public static IReadOnlyList<string> Split(string stored) =>
        stored.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Null when <paramref name="authUrl"/> may be used by an app with <paramref name="allowed"/> hosts; else why not.</summary>
    public static string? Check(string? authUrl, IReadOnlyList<string> allowed)
    {
        if (CheckShape(authUrl, out var uri) is { } problem)
        {
            return problem;
        }

        var host = Normalize(uri!.IdnHost);
        return host is not null && allowed.Contains(host, StringComparer.Ordinal) ? null : "points to a host this app may not use";
    }

    /// <summary>
    /// Null when <paramref name="authUrl"/> has the shape of an <c>auth_url</c> (whatever its host); else why not.
    /// Also applied to stored values before they are handed out, so a value stored before a rule existed is never echoed.
    /// </summary>
    public static string? CheckShape(string? authUrl, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(authUrl))
        {
            return "is required";
        }

        if (authUrl.Length > MaxUrlLength)
        {
            return $"must be at most {MaxUrlLength} characters";
        }

        // Why: the URL is handed to other apps, which put it in Location headers and pages; a raw CR/LF splits a header,
        // and no control or white-space character belongs in a URL unescaped (RFC 3986). Uri would accept or strip some.
        if (authUrl.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            return "must not contain control or white-space characters (percent-encode them)";
        }

        if (!Uri.TryCreate(authUrl, UriKind.Absolute, out uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return "must be an absolute https URL";
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            return "must use https";
        }

        return uri.UserInfo.Length > 0 ? "must not carry user info" : null;
    }

    /// <summary>The lower-case ASCII form of a bare host name, or null when it is not one.</summary>
    public static string? Normalize(string? host)
    {
        if (string.IsNullOrWhiteSpace(host) || host.Length > 253)
        {
            return null;
        }

        try
        {
            var ascii = Idn.GetAscii(host.Trim().TrimEnd('.')).ToLowerInvariant();
            return Uri.CheckHostName(ascii) is UriHostNameType.Dns or UriHostNameType.IPv4 ? ascii : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
