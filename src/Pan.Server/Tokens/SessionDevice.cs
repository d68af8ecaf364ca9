using System.Globalization;
using System.Text;
using Microsoft.Net.Http.Headers;
using Pan.Data.Tokens;
using Pan.Server.Network;

namespace Pan.Server.Tokens;

/// <summary>
/// Where an auth session was opened from, as ListSessions shows it: the client's address (as Pan resolves it, see
/// <see cref="ClientAddress"/>) and its User-Agent. Both are what the client said; they help a member recognise a
/// device, they prove nothing.
/// </summary>
public sealed record SessionDevice(string? ClientIp, string? UserAgent)
{
    /// <summary>A session opened without a request (the command line, in-process): nothing is known.</summary>
    public static readonly SessionDevice None = new(null, null);

    /// <summary>The device facts of <paramref name="http"/>, or <see cref="None"/> without a request.</summary>
    public static SessionDevice Of(HttpContext? http)
    {
        if (http is null)
        {
            return None;
        }

        var ip = ClientAddress.Of(http)?.ToString();
        return new SessionDevice(
            ip is { Length: <= AuthSession.MaxClientIpLength } ? ip : null,
            CleanUserAgent(http.Request.Headers[HeaderNames.UserAgent].ToString()));
    }

    /// <summary>
    /// <paramref name="value"/> without control or formatting characters (which could break a log or a screen line, or
    /// turn text around with a bidirectional override), whitespace runs as one space, cut to
    /// <see cref="AuthSession.MaxUserAgentLength"/> characters (never inside a surrogate pair); null when nothing is
    /// left.
    /// </summary>
    public static string? CleanUserAgent(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        const int Max = AuthSession.MaxUserAgentLength;
        var text = new StringBuilder(Math.Min(value.Length, Max + 2));
        var space = false;
        for (var i = 0; i < value.Length && text.Length <= Max; i++)
        {
            var c = value[i];
            if (char.IsWhiteSpace(c))
            {
                space = text.Length > 0;
                continue;
            }

            var pair = char.IsSurrogatePair(value, i);
            if (CharUnicodeInfo.GetUnicodeCategory(value, i) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                    or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.OtherNotAssigned)
            {
                continue;
            }

            if (space)
            {
                text.Append(' ');
                space = false;
            }

            text.Append(c);
            if (pair)
            {
                text.Append(value[++i]);
            }
        }

        if (text.Length > Max)
        {
            text.Length = char.IsHighSurrogate(text[Max - 1]) ? Max - 1 : Max;
        }

        var cleaned = text.ToString().TrimEnd();
        return cleaned.Length == 0 ? null : cleaned;
    }
}
