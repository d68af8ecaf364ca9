using System.ComponentModel.DataAnnotations;

namespace Pan.Server.AddressBooks;

/// <summary><c>Pan:AddressBooks:*</c>.</summary>
public sealed class AddressBookOptions
{
    public const string Section = "Pan:AddressBooks";

    /// <summary>Most address-book entries one member may keep (default 50).</summary>
    [Range(1, 1000, ErrorMessage = "Pan:AddressBooks:MaxPerMember must be 1–1000.")]
    public int MaxPerMember { get; set; } = 50;
}
