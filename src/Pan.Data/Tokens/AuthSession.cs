namespace Pan.Data.Tokens;

/// <summary>
/// The server-side half of a phone-level auth token (its <c>sid</c> claim). Revoking the session kills the auth token
/// and every access token issued from it, on every node at once.
/// </summary>
public sealed class AuthSession
{
    /// <summary>The width of <see cref="UserAgent"/>.</summary>
    public const int MaxUserAgentLength = 256;

    /// <summary>The width of <see cref="ClientIp"/> (as <c>members.activate_ip</c>).</summary>
    public const int MaxClientIpLength = 64;

    public long Id { get; set; }

    /// <summary>
    /// The session's own 16 random bytes, drawn when it is opened: the <c>session_id</c> ListSessions shows and
    /// EndSession takes (base64url). Never derived from <see cref="Id"/>, which is handed out in sequence.
    /// </summary>
    public required byte[] PublicId { get; set; }

    /// <summary>The phone-level account the auth token opens.</summary>
    public long AccountId { get; set; }

    /// <summary>The member who signed in (the token's <c>uid</c> claim).</summary>
    public long Uid { get; set; }

    /// <summary>How the session was opened (the <c>auth_method</c> claim, e.g. auth-by-phone).</summary>
    public string AuthMethod { get; set; } = string.Empty;

    public DateTimeOffset Created { get; set; }

    /// <summary>Same instant as the token's <c>expire</c> claim.</summary>
    public DateTimeOffset Expires { get; set; }

    /// <summary>Set by logout, credential changes and deletions; the session is dead from then on.</summary>
    public DateTimeOffset? Revoked { get; set; }

    /// <summary>
    /// The address of the request that opened the session (as Pan resolves a client's address, trusted proxies
    /// included); null when it was opened without a request (the command line, in-process). Shown in ListSessions.
    /// </summary>
    public string? ClientIp { get; set; }

    /// <summary>
    /// The User-Agent of the request that opened the session, cut to <see cref="MaxUserAgentLength"/> characters with
    /// control characters removed; null when there was none or no request. Shown in ListSessions.
    /// </summary>
    public string? UserAgent { get; set; }
}
