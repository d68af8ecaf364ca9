namespace Pan.Data.Guests;

/// <summary>
/// A pending activation of a converted account: a 256-bit link token mailed to the member (scheme 1) or a 6-digit code
/// texted to the member's mobile (scheme 2). Only the SHA-256 of the secret is stored; it is used once (a conditional
/// UPDATE of <see cref="UsedAt"/>), expires, and an SMS code dies after a few wrong tries.
/// </summary>
public sealed class GuestActivation
{
    public long Id { get; set; }

    /// <summary>The public handle returned as <c>actID</c> (22 base64url characters). Not a secret: it cannot activate.</summary>
    public string ActId { get; set; } = string.Empty;

    public long Uid { get; set; }

    /// <summary>1 email, 2 SMS.</summary>
    public int Scheme { get; set; }

    /// <summary>Where the secret went: the lower-cased email, or the E.164 number (SMS codes are looked up by it).</summary>
    public string Target { get; set; } = string.Empty;

    /// <summary>SHA-256 of the link token, or of "actId:code" for an SMS code.</summary>
    public byte[] SecretHash { get; set; } = [];

    /// <summary>Wrong codes tried against this activation.</summary>
    public int Attempts { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }

    public DateTimeOffset? UsedAt { get; set; }
}
