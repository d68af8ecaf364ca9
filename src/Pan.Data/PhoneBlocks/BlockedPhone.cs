namespace Pan.Data.PhoneBlocks;

/// <summary>
/// An operator's block of one phone number (<c>blocked_phones</c>, a Pan extension): while it applies no SMS goes to the
/// number and no account is created for it. It belongs to the number, not to an account, so deleting the account does
/// not lift it. It applies while <see cref="Expires"/> is null or in the future, so an expiring block lifts itself.
/// </summary>
public sealed class BlockedPhone
{
    /// <summary>The longest <see cref="Reason"/>, in characters.</summary>
    public const int ReasonMaxLength = 500;

    /// <summary>The blocked number in E.164, as libphonenumber normalises it (the primary key).</summary>
    public string PhoneE164 { get; set; } = string.Empty;

    /// <summary>Why the number was blocked: free text for staff, never shown to the number's owner.</summary>
    public string Reason { get; set; } = string.Empty;

    /// <summary>Who blocked it: the admin's email, or <c>cli:</c> and the operating-system user for the command line.</summary>
    public string BlockedBy { get; set; } = string.Empty;

    /// <summary>When the block was set (or last replaced).</summary>
    public DateTimeOffset Created { get; set; }

    /// <summary>When the block stops applying by itself; null: until it is lifted.</summary>
    public DateTimeOffset? Expires { get; set; }
}
