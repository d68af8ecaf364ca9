namespace Pan.Server.Members;

/// <summary>
/// Syntax of a member's email (server-side check, not a deliverability test) and its uniqueness key. Accepts
/// <c>local@domain</c>: at most 254 characters, a local part of 1–64 characters without spaces, quotes or control
/// characters, and a domain of dot-separated labels (letters of any script, digits, '-') with at least one dot.
/// </summary>
public static class EmailAddresses
{
    public const int MaxLength = 254;

    /// <summary>
    /// An address as a log line may show it: its domain only (<c>…@example.com</c>; SECURITY.md 16). Staff's addresses
    /// too (an admin's sign-in, the actor of an audit line): the audit rows keep them whole. Text without an '@' passes
    /// unchanged (actors such as <c>member:42</c> or <c>cli</c>).
    /// </summary>
    public static string ForLog(string value)
    {
        var at = value.LastIndexOf('@');
        return at < 0 ? value : "…" + value[at..];
    }

    /// <summary>The trimmed address, or null when it is not an acceptable email.</summary>
    public static string? Normalize(string? email)
    {
        var value = email?.Trim();
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
        {
            return null;
        }

        var at = value.LastIndexOf('@');
        if (at is < 1 or > 64 || at == value.Length - 1)
        {
            return null;
        }

        var local = value.AsSpan(0, at);
        foreach (var c in local)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '@' or '(' or ')' or ',' or ':' or ';' or '<' or '>' or '[' or ']' or '\\')
            {
                return null;
            }
        }

        if (local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return null;
        }

        var labels = value[(at + 1)..].Split('.');
        if (labels.Length < 2)
        {
            return null;
        }

        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsLetterOrDigit(c) || c == '-'))
            {
                return null;
            }
        }

        return value;
    }

    /// <summary>The uniqueness key (<c>members.email_key</c>): the address lower-cased.</summary>
    public static string Key(string email) => email.ToLowerInvariant();
}
