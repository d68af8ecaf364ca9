using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data.AddressBooks;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Book = Pan.Atom.Member.AddressBook;
using BookType = Pan.Atom.Member.AddressBook.Types.Type;

namespace Pan.Tests.AddressBooks;

/// <summary>GetAddressBooks, SaveAddressBook and DeleteAddressBook: ownership, validation, the one-per-member rules and the cap.</summary>
public abstract class AddressBookBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ExtrasFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Fact]
    public async Task Save_CreatesThenUpdates_AndGetListsThem()
    {
        var token = await NewMemberTokenAsync();

        var created = (await SaveAsync(token, NewBook(full: "  Lin Mei  "))).AddressBook;
        Assert.True(created.Id > 0);
        Assert.Equal("Lin Mei", created.FullName);

        created.Address = "No. 2, Section 3, Zhongshan Rd";
        created.Platform = "jkforum";
        var updated = (await SaveAsync(token, created)).AddressBook;
        Assert.Equal(created.Id, updated.Id);

        var second = (await SaveAsync(token, NewBook(id: -1))).AddressBook;
        var list = (await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = token })).AddressBooks;
        Assert.Equal([created.Id, second.Id], list.Select(b => b.Id));
        Assert.Equal(updated, list[0]);
    }

    [Fact]
    public async Task Delete_RemovesTheEntry_ThenItIsNotFound()
    {
        var token = await NewMemberTokenAsync();
        var book = (await SaveAsync(token, NewBook())).AddressBook;

        await Client.DeleteAddressBookAsync(new DeleteAddressBookRequest { AccessToken = token, AddressBookId = book.Id });

        Assert.Empty((await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = token })).AddressBooks);
        await Errors.ExpectAsync(() => Client.DeleteAddressBookAsync(new DeleteAddressBookRequest { AccessToken = token, AddressBookId = book.Id }).ResponseAsync,
            StatusCode.NotFound, "ADDRESS_BOOK_NOT_FOUND");
    }

    [Fact]
    public async Task Save_OfAnEntryThatADeleteRemovesMeanwhile_IsNotFound()
    {
        var token = await NewMemberTokenAsync();
        var book = (await SaveAsync(token, NewBook())).AddressBook;
        Task deleting;
        Task<SaveAddressBookResponse> saving;
        await using (await DatabaseLock.HoldRowsAsync(fixture.Database, "address_books", $"id = {book.Id}"))
        {
            // The delete comes first and waits for the entry's row; the save of the same entry comes second (PostgreSQL
            // lets the waiters through in the order they came; on SQLite the two run once the lock is gone, in either order).
            deleting = Task.Run(() => Client.DeleteAddressBookAsync(new DeleteAddressBookRequest { AccessToken = token, AddressBookId = book.Id }).ResponseAsync);
            await LockWaits.UntilAsync(fixture.Database, 1, deleting);
            book.FullName = "Renamed";
            saving = Task.Run(() => SaveAsync(token, book));
            await LockWaits.UntilAsync(fixture.Database, 2, saving);
        }

        await deleting;
        try
        {
            // The save came first (possible on SQLite only): it renamed the entry the delete then removed.
            Assert.Equal("Renamed", (await saving).AddressBook.FullName);
            Assert.NotEqual("postgres", fixture.Database.Provider);
        }
        catch (RpcException refused)
        {
            // The delete came first: one after the other, that save is of an unknown entry — NOT_FOUND, as the contract
            // says, never a generic conflict to retry.
            Assert.Equal((StatusCode.NotFound, "ADDRESS_BOOK_NOT_FOUND"), (refused.StatusCode, refused.Info().Reason));
        }

        Assert.Empty((await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = token })).AddressBooks);
    }

    [Fact]
    public async Task AnotherMembersEntry_CannotBeSeenChangedOrDeleted_AndLooksUnknown()
    {
        var first = await TestMembers.CreateAsync(Server);
        var owner = await TestMembers.AccessTokenAsync(Server, first);
        var book = (await SaveAsync(owner, NewBook(full: "Owner"))).AddressBook;
        // A member under the same phone is still another member.
        var intruder = await TestMembers.AccessTokenAsync(Server, await TestMembers.AddToPhoneAsync(Server, first));

        Assert.Empty((await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = intruder })).AddressBooks);
        var stolen = book.Clone();
        stolen.FullName = "Intruder";
        var update = await Errors.ExpectAsync(() => SaveAsync(intruder, stolen), StatusCode.NotFound, "ADDRESS_BOOK_NOT_FOUND");
        var delete = await Errors.ExpectAsync(
            () => Client.DeleteAddressBookAsync(new DeleteAddressBookRequest { AccessToken = intruder, AddressBookId = book.Id }).ResponseAsync,
            StatusCode.NotFound, "ADDRESS_BOOK_NOT_FOUND");
        var unknown = await Errors.ExpectAsync(
            () => Client.DeleteAddressBookAsync(new DeleteAddressBookRequest { AccessToken = intruder, AddressBookId = long.MaxValue }).ResponseAsync,
            StatusCode.NotFound, "ADDRESS_BOOK_NOT_FOUND");
        Assert.Equal(unknown.Status.Detail, delete.Status.Detail);
        Assert.Equal(unknown.Status.Detail, update.Status.Detail);

        var mine = (await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = owner })).AddressBooks;
        Assert.Equal("Owner", Assert.Single(mine).FullName);
    }

    [Fact]
    public async Task MainTypeAndDefaultBuyer_MoveToTheLatestEntry()
    {
        var token = await NewMemberTokenAsync();
        var first = (await SaveAsync(token, NewBook(type: BookType.MainLive, defaultBuyer: true))).AddressBook;
        var shipping = (await SaveAsync(token, NewBook(type: BookType.MainShipping))).AddressBook;
        var second = (await SaveAsync(token, NewBook(type: BookType.MainLive, defaultBuyer: true))).AddressBook;

        var list = (await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = token })).AddressBooks.ToDictionary(b => b.Id);
        Assert.Equal((BookType.None, false), (list[first.Id].Type, list[first.Id].DefaultBuyer));
        Assert.Equal((BookType.MainShipping, false), (list[shipping.Id].Type, list[shipping.Id].DefaultBuyer));
        Assert.Equal((BookType.MainLive, true), (list[second.Id].Type, list[second.Id].DefaultBuyer));
    }

    [Fact]
    public async Task ParallelSaves_LeaveExactlyOneMainShippingAndOneDefaultBuyer()
    {
        var token = await NewMemberTokenAsync();
        var saves = Enumerable.Range(0, ExtrasFixture.MaxAddressBooks)
            .Select(_ => SaveAsync(token, NewBook(type: BookType.MainShipping, defaultBuyer: true)));
        await Task.WhenAll(saves);

        var list = (await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = token })).AddressBooks;
        Assert.Equal(ExtrasFixture.MaxAddressBooks, list.Count);
        Assert.Single(list, b => b.Type == BookType.MainShipping);
        Assert.Single(list, b => b.DefaultBuyer);
    }

    [Fact]
    public async Task TheDatabase_RefusesASecondMainTypeOrDefaultBuyer_ForOneMember()
    {
        var member = await TestMembers.CreateAsync(Server);
        var now = Server.Clock.GetUtcNow();
        AddressBook Row(int type, bool buyer) => new() { Uid = member.Uid, FullName = "x", Address = "y", Type = type, DefaultBuyer = buyer, Created = now, Modified = now };

        await TestMembers.WithDbAsync(Server, async db => { db.AddRange(Row(1, false), Row(2, true), Row(0, false), Row(0, false)); return await db.SaveChangesAsync(); });
        await Assert.ThrowsAsync<DbUpdateException>(() => TestMembers.WithDbAsync(Server, db => { db.Add(Row(1, false)); return db.SaveChangesAsync(); }));
        await Assert.ThrowsAsync<DbUpdateException>(() => TestMembers.WithDbAsync(Server, db => { db.Add(Row(0, true)); return db.SaveChangesAsync(); }));
    }

    [Fact]
    public async Task TheCap_RefusesOneEntryMoreThanTheLimit()
    {
        var token = await NewMemberTokenAsync();
        for (var i = 0; i < ExtrasFixture.MaxAddressBooks; i++)
        {
            await SaveAsync(token, NewBook());
        }

        await Errors.ExpectAsync(() => SaveAsync(token, NewBook()), StatusCode.ResourceExhausted, "ADDRESS_BOOK_LIMIT");
        // Updating an existing entry is still fine at the cap.
        var existing = (await Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = token })).AddressBooks[0];
        existing.ZipCode = "100";
        await SaveAsync(token, existing);
    }

    [Theory]
    [InlineData("full_name")]
    [InlineData("zip_code")]
    [InlineData("address")]
    [InlineData("phone")]
    [InlineData("platform")]
    public async Task TooLongFields_AreInvalidArgument_NamingTheField(string field)
    {
        var token = await NewMemberTokenAsync();
        var book = NewBook();
        var tooLong = new string('字', 301);
        switch (field)
        {
            case "full_name": book.FullName = tooLong; break;
            case "zip_code": book.ZipCode = tooLong; break;
            case "address": book.Address = tooLong; break;
            case "phone": book.Phone = new string('1', 33); break;
            case "platform": book.Platform = tooLong; break;
        }

        var ex = await Errors.ExpectAsync(() => SaveAsync(token, book), StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("address_book." + field, Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task BadEntries_AreInvalidArgument_NamingEachField()
    {
        var token = await NewMemberTokenAsync();

        var missing = await Errors.ExpectAsync(() => Client.SaveAddressBookAsync(new SaveAddressBookRequest { AccessToken = token }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("address_book", Assert.Single(missing.BadRequest()!.FieldViolations).Field);

        var bad = NewBook(full: "  ", address: "a\u0000b");
        bad.Phone = "call me";
        bad.Type = (BookType)7;
        var ex = await Errors.ExpectAsync(() => SaveAsync(token, bad), StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal(
            ["address_book.full_name", "address_book.address", "address_book.phone", "address_book.type"],
            ex.BadRequest()!.FieldViolations.Select(v => v.Field).ToList());

        var id = await Errors.ExpectAsync(() => Client.DeleteAddressBookAsync(new DeleteAddressBookRequest { AccessToken = token, AddressBookId = 0 }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("address_book_id", Assert.Single(id.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task ABadToken_IsUnauthenticated_OnEveryCall()
    {
        await Errors.ExpectAsync(() => Client.GetAddressBooksAsync(new GetAddressBooksRequest { AccessToken = "nope" }).ResponseAsync,
            StatusCode.Unauthenticated, "TOKEN_INVALID");
        await Errors.ExpectAsync(() => SaveAsync("nope", NewBook()), StatusCode.Unauthenticated, "TOKEN_INVALID");
        await Errors.ExpectAsync(() => Client.DeleteAddressBookAsync(new DeleteAddressBookRequest { AccessToken = "nope", AddressBookId = 1 }).ResponseAsync,
            StatusCode.Unauthenticated, "TOKEN_INVALID");
    }

    [Fact]
    public async Task Json_SaveAndList_WorkOverHttp()
    {
        var token = await NewMemberTokenAsync();
        var save = await Server.Http.PostAsJsonAsync("/v2/member/save-address-book", new
        {
            accessToken = token,
            addressBook = new { fullName = "Chen", address = "Taipei", type = "TypeMainShipping", defaultBuyer = true },
        });
        Assert.Equal(HttpStatusCode.OK, save.StatusCode);
        var saved = (await save.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("addressBook");
        Assert.Equal("TypeMainShipping", saved.GetProperty("type").GetString());

        var list = await Server.Http.PostAsJsonAsync("/v2/member/get-address-books", new { accessToken = token });
        var books = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("addressBooks");
        Assert.Equal(saved.GetProperty("id").GetString(), Assert.Single(books.EnumerateArray()).GetProperty("id").GetString());

        var bad = await Server.Http.PostAsJsonAsync("/v2/member/save-address-book", new { accessToken = token, addressBook = new { fullName = "", address = "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(["address_book.full_name"], await JsonErrors.FieldsAsync(bad));
    }

    private async Task<string> NewMemberTokenAsync() => await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));

    private Task<SaveAddressBookResponse> SaveAsync(string token, Book book) =>
        Client.SaveAddressBookAsync(new SaveAddressBookRequest { AccessToken = token, AddressBook = book }).ResponseAsync;

    private static Book NewBook(long id = 0, string full = "Wang Xiao", string address = "No. 1, Xinyi Rd, Taipei", BookType type = BookType.None, bool defaultBuyer = false) => new()
    {
        Id = id,
        FullName = full,
        ZipCode = "110",
        Address = address,
        Phone = "+886 912-345-678",
        Platform = "jkforum",
        Type = type,
        DefaultBuyer = defaultBuyer,
    };
}

public sealed class AddressBookBehaviour_Sqlite(SqliteExtrasFixture f) : AddressBookBehaviour<SqliteExtrasFixture>(f);

public sealed class AddressBookBehaviour_Postgres(PostgresExtrasFixture f) : AddressBookBehaviour<PostgresExtrasFixture>(f);
