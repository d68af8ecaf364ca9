namespace Pan.Data.AddressBooks;

/// <summary>
/// One entry of a member's address book (the seed's <c>pan.atom.member.AddressBook</c>). Each member sees and changes
/// only their own entries. At most one entry per member has each main type (live, shipping), and at most one is the
/// default buyer: both rules are filtered unique indexes, so the database holds them under concurrency.
/// </summary>
public sealed class AddressBook
{
    /// <summary>Column widths in characters; the server validates input against the same numbers.</summary>
    public const int FullNameLength = 100, ZipCodeLength = 16, AddressLength = 300, PhoneLength = 32, PlatformLength = 32;

    /// <summary>Server-assigned id (the seed's <c>id</c>).</summary>
    public long Id { get; set; }

    /// <summary>The owning member.</summary>
    public long Uid { get; set; }

    public string FullName { get; set; } = string.Empty;

    public string ZipCode { get; set; } = string.Empty;

    public string Address { get; set; } = string.Empty;

    public string Phone { get; set; } = string.Empty;

    public string Platform { get; set; } = string.Empty;

    public bool DefaultBuyer { get; set; }

    /// <summary>The seed's AddressBook.Type: 0 none, 1 main live, 2 main shipping.</summary>
    public int Type { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Modified { get; set; }
}
