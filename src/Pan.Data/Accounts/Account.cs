namespace Pan.Data.Accounts;

/// <summary>
/// The phone-level account: one per verified phone number. Every member profile (<see cref="Members.Member"/>)
/// hangs under exactly one account; the phone is unique across live accounts.
/// </summary>
public sealed class Account
{
    public long Id { get; set; }

    /// <summary>The phone in E.164 (for example +886912345678). Null once the account is deleted (the phone is freed).</summary>
    public string? PhoneE164 { get; set; }

    /// <summary>The country calling code of the phone, without "+" (for example 886), for per-country rules.</summary>
    public int PhoneCountryCode { get; set; }

    /// <summary>The member chosen when a caller asks for "the default member" (AccessToken without object_id).</summary>
    public long? DefaultMemberUid { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Modified { get; set; }

    /// <summary>Set when the whole account was deleted; the row stays as a tombstone.</summary>
    public DateTimeOffset? Deleted { get; set; }

    /// <summary>Optimistic concurrency token, bumped on every change.</summary>
    public long Version { get; set; }

    public List<Members.Member> Members { get; } = [];

    /// <summary>A field-by-field copy (navigations shared), for handing out a cached, untracked row.</summary>
    public Account Copy() => (Account)MemberwiseClone();
}
