using Grpc.Core;
using Pan.General.Member;
using Pan.Server.AddressBooks;
using Pan.Server.Errors;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// The caller's address-book entries, oldest first. The seed has no address-book error enum: a token that is
    /// unknown, expired, revoked or whose member was deleted answers UNAUTHENTICATED (reason TOKEN_INVALID).
    /// </summary>
    public override async Task<GetAddressBooksResponse> GetAddressBooks(GetAddressBooksRequest request, ServerCallContext context)
    {
        var caller = await CallerAsync(request.AccessToken, context);
        var rows = await Resolve<AddressBookStore>(context).ListAsync(caller.Uid, context.CancellationToken);
        var response = new GetAddressBooksResponse();
        response.AddressBooks.AddRange(rows.Select(AddressBookRules.ToContract));
        return response;
    }

    /// <summary>
    /// Creates (id &lt;= 0) or updates one of the caller's entries and returns it with its id. Bad fields: INVALID_ARGUMENT
    /// naming each (<c>address_book.full_name</c>, …); an id the caller does not own (unknown, deleted or another
    /// member's): NOT_FOUND (reason ADDRESS_BOOK_NOT_FOUND); more than <c>Pan:AddressBooks:MaxPerMember</c> entries:
    /// RESOURCE_EXHAUSTED (ADDRESS_BOOK_LIMIT). Setting type TypeMainLive / TypeMainShipping or default_buyer moves it
    /// from the caller's other entries in the same transaction.
    /// </summary>
    public override async Task<SaveAddressBookResponse> SaveAddressBook(SaveAddressBookRequest request, ServerCallContext context)
    {
        var input = AddressBookRules.Check(request.AddressBook);
        var caller = await CallerAsync(request.AccessToken, context);
        var saved = await Resolve<AddressBookStore>(context).SaveAsync(caller.Uid, input, context.CancellationToken)
            ?? throw TokenInvalid();
        return new SaveAddressBookResponse { AddressBook = AddressBookRules.ToContract(saved) };
    }

    /// <summary>Deletes one of the caller's entries: address_book_id below 1 is INVALID_ARGUMENT; an id the caller does not own is NOT_FOUND.</summary>
    public override async Task<DeleteAddressBookResponse> DeleteAddressBook(DeleteAddressBookRequest request, ServerCallContext context)
    {
        if (request.AddressBookId <= 0)
        {
            throw PanError.InvalidArgument("address_book_id", "must be 1 or more");
        }

        var caller = await CallerAsync(request.AccessToken, context);
        await Resolve<AddressBookStore>(context).DeleteAsync(caller.Uid, request.AddressBookId, context.CancellationToken);
        return new DeleteAddressBookResponse();
    }
}
