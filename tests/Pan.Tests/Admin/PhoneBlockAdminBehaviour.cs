using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using BlockRow = Pan.Data.PhoneBlocks.BlockedPhone;
using Pan.General.Admin;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Admin;

/// <summary>
/// BlockPhone, UnblockPhone and ListBlockedPhones (a Pan extension) and the <c>phones block|unblock|list</c> commands:
/// roles, bad input, the stored (normalised) number, the audit trail.
/// </summary>
public abstract class PhoneBlockAdminBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AdminFixture
{
    private AdminService.AdminServiceClient Client => new(fixture.Server.Grpc);

    [Fact]
    public async Task BlockPhone_ByAMemberAdmin_StoresTheNormalisedNumber_ListsIt_AndIsAudited_AsIsItsUnblock()
    {
        var (admin, token) = await fixture.SignInNewAdminAsync("member-admin");
        var e164 = NewE164();
        var expires = fixture.Server.Clock.GetUtcNow().AddDays(7);

        // Spaces and dashes are read as Pan reads phones everywhere.
        await Client.BlockPhoneAsync(new BlockPhoneRequest
        {
            AdminToken = token, Phone = $"{e164[..4]} {e164[4..7]}-{e164[7..]}", Reason = "SMS pumping", Expires = Timestamp.FromDateTimeOffset(expires),
        });

        var row = await RowAsync(e164);
        Assert.NotNull(row);
        Assert.Equal(("SMS pumping", admin, expires), (row.Reason, row.BlockedBy, row.Expires!.Value));
        var (_, reader) = await fixture.SignInNewAdminAsync("support");
        var listed = (await Client.ListBlockedPhonesAsync(new ListBlockedPhonesRequest { AdminToken = reader })).Phones.Single(p => p.Phone == e164);
        Assert.Equal(("SMS pumping", admin, expires), (listed.Reason, listed.BlockedBy, listed.Expires.ToDateTimeOffset()));
        Assert.Equal((admin, "ok"), Assert.Single(await fixture.AuditAsync("admin.block-phone", "phone:" + e164)) is var b ? (b.Actor, b.Outcome) : default);

        await Client.UnblockPhoneAsync(new UnblockPhoneRequest { AdminToken = token, Phone = e164 });
        Assert.Null(await RowAsync(e164));
        await Errors.ExpectAsync(() => Client.UnblockPhoneAsync(new UnblockPhoneRequest { AdminToken = token, Phone = e164 }).ResponseAsync,
            StatusCode.NotFound, "UnblockPhoneResponse.Error.NotBlocked");
        Assert.Equal([(admin, "ok"), (admin, "UnblockPhoneResponse.Error.NotBlocked")],
            (await fixture.AuditAsync("admin.unblock-phone", "phone:" + e164)).Select(e => (e.Actor, e.Outcome)));
    }

    /// <summary>A page past the last one is empty however far it is (its offset does not wrap around), on both databases.</summary>
    [Fact]
    public async Task ListBlockedPhones_APageFarPastTheLast_IsEmpty()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        await Client.BlockPhoneAsync(new BlockPhoneRequest { AdminToken = token, Phone = NewE164(), Reason = "listed" });
        Assert.NotEmpty((await Client.ListBlockedPhonesAsync(new ListBlockedPhonesRequest { AdminToken = token })).Phones);

        foreach (var page in new[] { 21_474_838, int.MaxValue })
        {
            Assert.Empty((await Client.ListBlockedPhonesAsync(new ListBlockedPhonesRequest { AdminToken = token, Page = page })).Phones);
        }
    }

    /// <summary>Blocking again replaces the block; a block past its expiry is no longer listed (it no longer applies).</summary>
    [Fact]
    public async Task BlockPhone_Again_ReplacesTheBlock_AndAnExpiredBlockIsNotListed()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var e164 = NewE164();
        await Client.BlockPhoneAsync(new BlockPhoneRequest { AdminToken = token, Phone = e164, Reason = "first" });
        var expires = fixture.Server.Clock.GetUtcNow().AddMinutes(30);

        await Client.BlockPhoneAsync(new BlockPhoneRequest { AdminToken = token, Phone = e164, Reason = "second", Expires = Timestamp.FromDateTimeOffset(expires) });

        var row = await RowAsync(e164);
        Assert.Equal(("second", expires), (row!.Reason, row.Expires!.Value));
        Assert.Contains(await ListedAsync(token), p => p.Phone == e164);
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(31));
        Assert.DoesNotContain(await ListedAsync(token), p => p.Phone == e164);
    }

    [Fact]
    public async Task BlockAndUnblock_BySupportOrWithoutAToken_AreNotAuthorized_AndChangeNothing()
    {
        var (support, supportToken) = await fixture.SignInNewAdminAsync("support");
        var e164 = NewE164();

        await Errors.ExpectAsync(() => Client.BlockPhoneAsync(new BlockPhoneRequest { AdminToken = supportToken, Phone = e164, Reason = "x" }).ResponseAsync,
            StatusCode.PermissionDenied, "BlockPhoneResponse.Error.NotAuthorized");
        await Errors.ExpectAsync(() => Client.BlockPhoneAsync(new BlockPhoneRequest { AdminToken = "garbage", Phone = e164, Reason = "x" }).ResponseAsync,
            StatusCode.Unauthenticated, "BlockPhoneResponse.Error.NotAuthorized");
        await Errors.ExpectAsync(() => Client.UnblockPhoneAsync(new UnblockPhoneRequest { AdminToken = supportToken, Phone = e164 }).ResponseAsync,
            StatusCode.PermissionDenied, "UnblockPhoneResponse.Error.NotAuthorized");
        await Errors.ExpectAsync(() => Client.ListBlockedPhonesAsync(new ListBlockedPhonesRequest { AdminToken = "garbage" }).ResponseAsync,
            StatusCode.Unauthenticated, "ListBlockedPhonesResponse.Error.NotAuthorized");

        Assert.Null(await RowAsync(e164));
        Assert.Equal([(support, "denied: needs role member-admin"), ("unknown", "denied: no valid admin token")],
            (await fixture.AuditAsync("admin.block-phone", "phone:" + e164)).Select(e => (e.Actor, e.Outcome)));
    }

    [Fact]
    public async Task BlockPhone_WithABadPhoneReasonOrExpiry_IsInvalidArgumentNamingTheField_AndStoresNothing()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var e164 = NewE164();
        var now = fixture.Server.Clock.GetUtcNow();

        foreach (var (request, field) in new[]
        {
            (new BlockPhoneRequest { AdminToken = token, Phone = "", Reason = "x" }, "phone"),
            (new BlockPhoneRequest { AdminToken = token, Phone = "not a phone", Reason = "x" }, "phone"),
            (new BlockPhoneRequest { AdminToken = token, Phone = "+886 1", Reason = "x" }, "phone"),
            (new BlockPhoneRequest { AdminToken = token, Phone = e164, Reason = " " }, "reason"),
            (new BlockPhoneRequest { AdminToken = token, Phone = e164, Reason = new string('r', BlockRow.ReasonMaxLength + 1) }, "reason"),
            (new BlockPhoneRequest { AdminToken = token, Phone = e164, Reason = "x", Expires = Timestamp.FromDateTimeOffset(now.AddSeconds(-1)) }, "expires"),
            (new BlockPhoneRequest { AdminToken = token, Phone = e164, Reason = "x", Expires = Timestamp.FromDateTimeOffset(now.AddYears(101)) }, "expires"),
            (new BlockPhoneRequest { AdminToken = token, Phone = e164, Reason = "x", Expires = new Timestamp { Seconds = long.MaxValue } }, "expires"),
        })
        {
            var ex = await Errors.ExpectAsync(() => Client.BlockPhoneAsync(request).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal(field, Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        var unblock = await Errors.ExpectAsync(() => Client.UnblockPhoneAsync(new UnblockPhoneRequest { AdminToken = token, Phone = "12" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("phone", Assert.Single(unblock.BadRequest()!.FieldViolations).Field);
        Assert.Null(await RowAsync(e164));
    }

    /// <summary>
    /// A reason with a control character (NUL among them, which PostgreSQL cannot store) is INVALID_ARGUMENT naming it, on
    /// both databases; a phone with one is INVALID_ARGUMENT naming the phone, and its attempt is still audited, the
    /// control characters left out of the target.
    /// </summary>
    [Fact]
    public async Task BlockPhone_WithAControlCharacterInTheReasonOrPhone_IsInvalidArgument_AndTheAttemptIsAudited()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var e164 = NewE164();

        foreach (var reason in new[] { "SMS\0pumping", "SMS\u0007pumping" })
        {
            var ex = await Errors.ExpectAsync(() => Client.BlockPhoneAsync(new BlockPhoneRequest { AdminToken = token, Phone = e164, Reason = reason }).ResponseAsync,
                StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal("reason", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        Assert.Null(await RowAsync(e164));
        var badPhone = e164[..7] + "\0";
        var phone = await Errors.ExpectAsync(() => Client.BlockPhoneAsync(new BlockPhoneRequest { AdminToken = token, Phone = badPhone, Reason = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("phone", Assert.Single(phone.BadRequest()!.FieldViolations).Field);
        Assert.Equal("INVALID_ARGUMENT", Assert.Single(await fixture.AuditAsync("admin.block-phone", "phone:" + e164[..7])).Outcome);
    }

    [Fact]
    public async Task Cli_BlockListUnblock_ChangeTheBlock_AndAuditEach()
    {
        var e164 = NewE164();

        var block = await PanCli.RunAsync(fixture.Database, "phones", "block", e164, "--reason", "SMS pumping", "--for", "30d");
        Assert.True(block.ExitCode == 0, block.Error);
        var row = await RowAsync(e164);
        Assert.Equal("SMS pumping", row!.Reason);
        Assert.StartsWith("cli:", row.BlockedBy, StringComparison.Ordinal);
        Assert.NotNull(row.Expires);
        var list = await PanCli.RunAsync(fixture.Database, "phones", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(e164, list.Output, StringComparison.Ordinal);
        Assert.Contains("SMS pumping", list.Output, StringComparison.Ordinal);

        var unblock = await PanCli.RunAsync(fixture.Database, "phones", "unblock", e164);
        Assert.True(unblock.ExitCode == 0, unblock.Error);
        Assert.Null(await RowAsync(e164));
        PanCli.AssertRefused(await PanCli.RunAsync(fixture.Database, "phones", "unblock", e164), "is not blocked");
        Assert.Equal(2, (await PanCli.RunAsync(fixture.Database, "phones", "block", "nonsense", "--reason", "x")).ExitCode);
        Assert.Equal(2, (await PanCli.RunAsync(fixture.Database, "phones", "block", e164)).ExitCode);
        Assert.StartsWith("ok", Assert.Single(await fixture.AuditAsync("cli.phones.block", "phone:" + e164)).Outcome, StringComparison.Ordinal);
        Assert.Equal("ok", (await fixture.AuditAsync("cli.phones.unblock", "phone:" + e164)).First().Outcome);
    }

    /// <summary>Every page of ListBlockedPhones.</summary>
    private async Task<List<BlockedPhone>> ListedAsync(string token)
    {
        var all = new List<BlockedPhone>();
        for (var page = 1; ; page++)
        {
            var phones = (await Client.ListBlockedPhonesAsync(new ListBlockedPhonesRequest { AdminToken = token, Page = page })).Phones;
            all.AddRange(phones);
            if (phones.Count < Pan.Server.PhoneBlocks.PhoneBlocks.PageSize)
            {
                return all;
            }
        }
    }

    private static string NewE164() => "+8869" + Random.Shared.Next(0, 90_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);

    private Task<BlockRow?> RowAsync(string e164) =>
        TestMembers.WithDbAsync(fixture.Server, db => db.Set<BlockRow>().AsNoTracking().SingleOrDefaultAsync(b => b.PhoneE164 == e164));
}

public sealed class PhoneBlockAdminBehaviour_Sqlite(SqliteAdminFixture f) : PhoneBlockAdminBehaviour<SqliteAdminFixture>(f);

public sealed class PhoneBlockAdminBehaviour_Postgres(PostgresAdminFixture f) : PhoneBlockAdminBehaviour<PostgresAdminFixture>(f);
