using System.Text;
using Pan.Data.AddressBooks;
using Pan.Server.Errors;
using PanAddressBook = Pan.Atom.Member.AddressBook;

namespace Pan.Server.AddressBooks;

/// <summary>
/// Validates an address-book entry sent by a client and maps between the seed's message and the stored row. Lengths
/// count code points (what PostgreSQL's varchar counts); surrounding white space is trimmed; control characters are
/// refused. full_name and address are required; phone may hold only digits, spaces and <c>+ - ( )</c>.
/// </summary>
public static class AddressBookRules
{
    private const string Prefix = "address_book.";

    /// <summary>The entry as a detached row with trimmed values, or INVALID_ARGUMENT naming every bad field.</summary>
    public static AddressBook Check(PanAddressBook? book)
    {
        if (book is null)
        {
            throw PanError.InvalidArgument("address_book", "is required");
        }

        var violations = new List<FieldViolation>();
        var row = new AddressBook
        {
            Id = book.Id,
            FullName = Text(book.FullName, "full_name", AddressBook.FullNameLength, required: true, violations),
            ZipCode = Text(book.ZipCode, "zip_code", AddressBook.ZipCodeLength, required: false, violations),
            Address = Text(book.Address, "address", AddressBook.AddressLength, required: true, violations),
            Phone = Text(book.Phone, "phone", AddressBook.PhoneLength, required: false, violations),
            Platform = Text(book.Platform, "platform", AddressBook.PlatformLength, required: false, violations),
            DefaultBuyer = book.DefaultBuyer,
            Type = (int)book.Type,
        };
        if (row.Phone.Any(c => !(char.IsAsciiDigit(c) || c is ' ' or '+' or '-' or '(' or ')')))
        {
            violations.Add(new FieldViolation(Prefix + "phone", "may contain only digits, spaces and + - ( )"));
        }

        if (!Enum.IsDefined(book.Type))
        {
            violations.Add(new FieldViolation(Prefix + "type", "must be TypeNone, TypeMainLive or TypeMainShipping"));
        }

        return violations.Count == 0 ? row : throw PanError.InvalidArgument([.. violations]);
    }

    public static PanAddressBook ToContract(AddressBook row) => new()
    {
        Id = row.Id,
        FullName = row.FullName,
        ZipCode = row.ZipCode,
        Address = row.Address,
        Phone = row.Phone,
        Platform = row.Platform,
        DefaultBuyer = row.DefaultBuyer,
        Type = (PanAddressBook.Types.Type)row.Type,
    };

    private static string Text(string value, string field, int maxLength, bool required, List<FieldViolation> violations)
    {
        var text = value.Trim();
        if (required && text.Length == 0)
        {
            violations.Add(new FieldViolation(Prefix + field, "is required"));
        }
        else if (text.EnumerateRunes().Count() > maxLength)
        {
            violations.Add(new FieldViolation(Prefix + field, $"must be at most {maxLength} characters"));
        }
        else if (text.EnumerateRunes().Any(r => Rune.GetUnicodeCategory(r) == System.Globalization.UnicodeCategory.Control))
        {
            violations.Add(new FieldViolation(Prefix + field, "must not contain control characters"));
        }

        return text;
    }
}
