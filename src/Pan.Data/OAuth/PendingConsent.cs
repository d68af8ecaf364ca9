namespace Pan.Data.OAuth;

/// <summary>
/// An authorization request waiting for the member's decision (the consent screen, over HTTP or gRPC). It lives in the
/// database so any node can show it, decide it and finish it. The request id handed out is 256 random bits; only its
/// SHA-256 is stored. Once decided, the request is finished by running /connect/authorize again with the stored
/// parameters, which uses the row up (<see cref="Used"/>) exactly once.
/// </summary>
public sealed class PendingConsent
{
    /// <summary>SHA-256 of the request id (hex).</summary>
    public string IdHash { get; set; } = string.Empty;

    /// <summary>The member asked (uid).</summary>
    public long MemberUid { get; set; }

    public string ClientId { get; set; } = string.Empty;

    /// <summary>The authorization request's parameters as a query string (without a leading '?').</summary>
    public string Parameters { get; set; } = string.Empty;

    /// <summary>Space-separated requested scopes.</summary>
    public string Scopes { get; set; } = string.Empty;

    /// <summary>0 waiting, 1 approved, 2 rejected.</summary>
    public int Decision { get; set; }

    /// <summary>Space-separated scopes the member granted (approved only).</summary>
    public string? GrantedScopes { get; set; }

    /// <summary>True when the member asked to remember the consent (a permanent authorization is made).</summary>
    public bool Remember { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }

    /// <summary>When the decision was turned into the client redirect; a used request never works again.</summary>
    public DateTimeOffset? Used { get; set; }
}
