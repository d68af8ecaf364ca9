namespace Pan.Server.Pages.SignIn;

/// <summary>
/// The <c>returnUrl</c> of the sign-in pages: only a local path ("/connect/authorize?…") is accepted, so the pages can
/// never send a browser to another site (no open redirect). Same rules as ASP.NET Core's IsLocalUrl, stricter on
/// control characters and length.
/// </summary>
public static class ReturnUrls
{
    /// <summary>An OAuth authorize URL with its parameters fits easily.</summary>
    public const int MaxLength = 4096;

    /// <summary>Where a browser goes after signing in when no returnUrl was given: the sign-in page, which shows who is signed in.</summary>
    public const string Default = MemberCookie.SignInPath;

    /// <summary>True for a local URL: "/" followed by anything but "/" or "\" (which would make it protocol-relative).</summary>
    public static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url)
        && url.Length <= MaxLength
        && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(c => char.IsControl(c) || c == '\\');

    /// <summary>The returnUrl of a request (query or form field), the default when absent, or null when it is not local.</summary>
    public static string? Of(string? value) => string.IsNullOrEmpty(value) ? Default : IsLocal(value) ? value : null;
}
