namespace Pan.Data.Email;

/// <summary>
/// One pending email challenge (the <c>email_codes</c> table): a typed code and a link token mailed together to one
/// address for one member and one purpose (verify-email, reset). Both are stored only as SHA-256 hashes; consuming
/// either one (a single conditional UPDATE of <see cref="UsedAt"/>) uses up the challenge, so it works once.
/// </summary>
public sealed class EmailCode
{
    public long Id { get; set; }

    public long Uid { get; set; }

    /// <summary>What the challenge is for: "verify-email" or "reset" (see EmailPurposes).</summary>
    public string Purpose { get; set; } = string.Empty;

    /// <summary>The lower-cased address the mail went to; the challenge only counts while the member still has it.</summary>
    public string AddressKey { get; set; } = string.Empty;

    /// <summary>SHA-256 of the normalised typed code (10 characters, ~50 bits; unique while stored).</summary>
    public byte[] CodeHash { get; set; } = [];

    /// <summary>SHA-256 of the 256-bit link token.</summary>
    public byte[] LinkHash { get; set; } = [];

    /// <summary>Where the hosted page sends the browser afterwards (an allow-listed absolute URL), if anywhere.</summary>
    public string? Redirect { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }

    /// <summary>Set by the one request that used the challenge; null while it is live.</summary>
    public DateTimeOffset? UsedAt { get; set; }
}
