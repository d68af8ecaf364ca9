namespace Pan.Data.Passport;

/// <summary>
/// A member's current short-lived pass of one kind: the passport token (membership card scanned at a counter) or the
/// verify code of their shareable QR code. One row per (member, kind): issuing a new pass replaces the old one, so the
/// previous secret stops working at once. Only the SHA-256 of the secret is stored.
/// </summary>
public sealed class MemberPass
{
    public const int KindLength = 16;

    public long Uid { get; set; }

    /// <summary><c>passport</c> or <c>qr</c>.</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>SHA-256 of the secret's text.</summary>
    public byte[] Hash { get; set; } = [];

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }
}
