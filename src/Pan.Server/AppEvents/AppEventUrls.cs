using Pan.Server.Apps;

namespace Pan.Server.AppEvents;

/// <summary>The rules of an app's event endpoint URL, those of a hand-off <c>auth_url</c> plus no fragment.</summary>
public static class AppEventUrls
{
    /// <summary>
    /// Null when <paramref name="url"/> may be an endpoint: absolute https (http only on a loopback host, for tests and
    /// local apps), at most 2048 characters, no white-space or control character, no user info (a password in a URL
    /// would sit in the database and the audit trail), no fragment; else why not.
    /// </summary>
    public static string? Check(string? url)
    {
        if (AuthHosts.CheckShape(url, out var uri) is { } problem)
        {
            return problem;
        }

        return uri!.Fragment.Length > 0 ? "must not have a fragment (#…)" : null;
    }
}
