using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Data.Sms;
using Pan.Lever.Member;
using Pan.Server.Phones;
using Pan.Server.Sms;
using Pan.Tests.Infrastructure;
using Pan.Tests.Sms;
using LeverClient = Pan.Lever.Member.MemberService.MemberServiceClient;
using Member = Pan.Data.Members.Member;

namespace Pan.Tests.Lever;

/// <summary><c>pan.lever.member.MemberService/SendSMS</c> over gRPC and HTTP/JSON: internal key, validation, lookup, gate.</summary>
public abstract class LeverSendSmsBehaviour<TFixture> : IClassFixture<TFixture>
    where TFixture : SmsFixture
{
    private const string Route = "/v1/lever/member/send-sms";
    private readonly TFixture fixture;

    protected LeverSendSmsBehaviour(TFixture fixture)
    {
        this.fixture = fixture;
        fixture.FreshWindow();
    }

    private LeverClient Grpc => new(fixture.Server.Grpc);

    private static Metadata Key(string key = SmsFixture.InternalKey) => new() { { "x-pan-internal-key", key } };

    [Fact]
    public async Task SendSMS_OverGrpc_TextReachesTheMembersPhone()
    {
        var (member, phone) = await CreateMemberAsync();

        await Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "Your order shipped" }, Key());

        var message = Assert.Single(fixture.Inbox.MessagesTo(phone.E164));
        Assert.Equal("Your order shipped", message.Text);
    }

    [Fact]
    public async Task SendSMS_OverHttpJson_TextReachesTheMembersPhone()
    {
        var (member, phone) = await CreateMemberAsync();

        using var response = await PostAsync(new { objectId = member.ObjectId, text = "Hello from JSON" }, SmsFixture.InternalKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Hello from JSON", Assert.Single(fixture.Inbox.MessagesTo(phone.E164)).Text);
    }

    /// <summary>A number an operator blocked gets no SMS from the lever either: PERMISSION_DENIED PHONE_BLOCKED, not a cap.</summary>
    [Fact]
    public async Task SendSMS_ToABlockedNumber_IsPermissionDeniedPhoneBlocked_AndSendsNothing()
    {
        var (member, phone) = await CreateMemberAsync();
        await Pan.Tests.Admin.TestPhoneBlocks.BlockAsync(fixture.Server, phone.E164);

        await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "Your order shipped" }, Key()).ResponseAsync,
            StatusCode.PermissionDenied, "PHONE_BLOCKED");

        Assert.Empty(fixture.Inbox.MessagesTo(phone.E164));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-the-key-0123456789abcdef0123456789")]
    [InlineData("pan-tests-internal-key-0123456789abcde")] // the real key minus its last character
    public async Task SendSMS_WithoutTheInternalKey_IsUnauthenticated(string? key)
    {
        var (member, phone) = await CreateMemberAsync();
        var headers = key is null ? null : Key(key);

        await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" }, headers).ResponseAsync,
            StatusCode.Unauthenticated, "UNAUTHENTICATED");
        Assert.Empty(fixture.Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task SendSMS_OverHttpJsonWithAWrongKey_Is401()
    {
        var (member, phone) = await CreateMemberAsync();

        using var response = await PostAsync(new { objectId = member.ObjectId, text = "hi" }, "wrong");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(fixture.Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task SendSMS_WhenNoKeysAreConfigured_RefusesEveryCaller()
    {
        var settings = fixture.Settings();
        settings.Remove("Pan:Internal:ApiKeys:0");
        await using var node = await PanServer.StartAsync(fixture.Database, settings, fixture.Clock);
        var (member, _) = await CreateMemberAsync();

        await Errors.ExpectAsync(
            () => new LeverClient(node.Grpc).SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" }, Key()).ResponseAsync,
            StatusCode.Unauthenticated, "UNAUTHENTICATED");
    }

    [Theory]
    [InlineData("", "object_id")]
    [InlineData("12345", "object_id")]
    [InlineData("00000000-0000-0000-0000-000000000000", "object_id")]
    [InlineData("'; DROP TABLE members; --", "object_id")]
    public async Task SendSMS_MalformedObjectId_IsInvalidArgumentNamingIt(string objectId, string field)
    {
        var ex = await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = objectId, Text = "hi" }, Key()).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal(field, Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)] // 501 characters
    public async Task SendSMS_MissingOrOversizedText_IsInvalidArgumentNamingIt(string? text)
    {
        var (member, phone) = await CreateMemberAsync();

        var ex = await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = text ?? new string('x', 501) }, Key()).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("text", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        Assert.Empty(fixture.Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task SendSMS_TextLimit_CountsCharactersNotUtf16Units()
    {
        var (member, phone) = await CreateMemberAsync();
        var text = string.Concat(Enumerable.Repeat("😀", 500)); // 500 characters, 1000 UTF-16 units

        await Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = text }, Key());

        Assert.Equal(text, Assert.Single(fixture.Inbox.MessagesTo(phone.E164)).Text);
    }

    [Fact]
    public async Task SendSMS_UnknownMember_IsNotFound()
    {
        var ex = await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = Guid.NewGuid().ToString(), Text = "hi" }, Key()).ResponseAsync,
            StatusCode.NotFound, "ErrObject.NOT_FOUND");
        Assert.Equal("1001", ex.Info().Metadata["code"]);
    }

    [Fact]
    public async Task SendSMS_DeletedMember_IsNotFound()
    {
        var (member, phone) = await CreateMemberAsync();
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            await db.Members.Where(m => m.Uid == member.Uid).ExecuteUpdateAsync(u => u.SetProperty(m => m.Deleted, fixture.Clock.GetUtcNow()));
        }

        await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" }, Key()).ResponseAsync,
            StatusCode.NotFound, "ErrObject.NOT_FOUND");
        Assert.Empty(fixture.Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task SendSMS_ToALiveMemberWithoutAPhone_IsFailedPreconditionNoPhone_NotNoSuchMember()
    {
        // An imported, guest or social-login member has an account without a phone: it exists, it just cannot be texted.
        Member member;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            member = await scope.ServiceProvider.GetRequiredService<Pan.Server.Members.MemberCreator>().CreateAsync(new Account(), new Member(), default);
        }

        var requests = fixture.Inbox.Requests;
        await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" }, Key()).ResponseAsync,
            StatusCode.FailedPrecondition, "SMS_NO_PHONE");
        Assert.Equal(requests, fixture.Inbox.Requests);
    }

    [Fact]
    public async Task SendSMS_ToAStoredNumberThatNoLongerParses_IsFailedPreconditionCannotReceive_NotNoSuchMember()
    {
        var (member, _) = await CreateMemberAsync();
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            await db.Accounts.Where(a => a.Id == member.AccountId).ExecuteUpdateAsync(u => u.SetProperty(a => a.PhoneE164, "+8860"));
        }

        var requests = fixture.Inbox.Requests;
        await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" }, Key()).ResponseAsync,
            StatusCode.FailedPrecondition, "SMS_CANNOT_RECEIVE");
        Assert.Equal(requests, fixture.Inbox.Requests);
    }

    [Fact]
    public async Task SendSMS_ProviderDown_IsUnavailable()
    {
        var (member, phone) = await CreateMemberAsync();
        fixture.Inbox.FailNext(3, HttpStatusCode.ServiceUnavailable);

        await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" }, Key()).ResponseAsync,
            StatusCode.Unavailable, "UNAVAILABLE");
        Assert.Empty(fixture.Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task SendSMS_OverThePhoneCap_IsResourceExhausted_AndNotSent()
    {
        var (member, phone) = await CreateMemberAsync();
        var request = new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" };
        for (var i = 0; i < 3; i++)
        {
            await Grpc.SendSMSAsync(request, Key());
        }

        var requests = fixture.Inbox.Requests;
        await Errors.ExpectAsync(() => Grpc.SendSMSAsync(request, Key()).ResponseAsync, StatusCode.ResourceExhausted, "SMS_LIMIT");

        Assert.Equal(requests, fixture.Inbox.Requests);
        Assert.Equal(3, fixture.Inbox.MessagesTo(phone.E164).Count);
    }

    [Fact]
    public async Task SendSMS_ManyMembersFromOneService_IsNotHeldByThePerIpCap()
    {
        for (var i = 0; i < 6; i++) // the per-IP cap is 4 an hour; internal callers are exempt
        {
            var (member, _) = await CreateMemberAsync(TestPhones.HongKong());
            await Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" }, Key());
        }
    }

    [Fact]
    public async Task SendSMS_ToACountryNotAllowed_IsFailedPrecondition()
    {
        var (member, phone) = await CreateMemberAsync(TestPhones.Japan());

        await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" }, Key()).ResponseAsync,
            StatusCode.FailedPrecondition, "SMS_COUNTRY_NOT_ALLOWED");
        Assert.Empty(fixture.Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task SendSMS_ToAStoredLandline_IsFailedPrecondition_AndCallsNoProvider()
    {
        // Why: a stored number never went through the typed-input check (an import, an admin); the gate re-types it.
        var (member, phone) = await CreateMemberAsync(new Pan.Server.Phones.PhoneNumbers().FromE164("+886223456787"));
        var requests = fixture.Inbox.Requests;

        await Errors.ExpectAsync(
            () => Grpc.SendSMSAsync(new SendSMSRequest { ObjectId = member.ObjectId.ToString(), Text = "hi" }, Key()).ResponseAsync,
            StatusCode.FailedPrecondition, "SMS_CANNOT_RECEIVE");
        Assert.Equal(requests, fixture.Inbox.Requests);
        Assert.Empty(fixture.Inbox.MessagesTo(phone.E164));
    }

    [Fact]
    public async Task ClientAddress_IgnoresXForwardedFor_WithoutTrustedProxies()
    {
        var (member, phone) = await CreateMemberAsync();

        using var response = await PostAsync(new { objectId = member.ObjectId, text = "hi" }, SmsFixture.InternalKey, forwardedFor: "203.0.113.7");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("127.0.0.1", await LoggedIpAsync(phone));
    }

    [Fact]
    public async Task ClientAddress_HonoursXForwardedFor_FromATrustedProxy()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Network:TrustedProxies:0"] = "127.0.0.1" });
        var (member, phone) = await CreateMemberAsync();

        using var response = await PostAsync(new { objectId = member.ObjectId, text = "hi" }, SmsFixture.InternalKey, "203.0.113.7, 198.51.100.2", node);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("198.51.100.2", await LoggedIpAsync(phone)); // the hop the trusted proxy saw; the client-written entry is not trusted
    }

    [Fact]
    public async Task ClientAddress_IgnoresXForwardedFor_FromAPeerThatIsNotATrustedProxy()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Network:TrustedProxies:0"] = "10.9.8.7" });
        var (member, phone) = await CreateMemberAsync();

        using var response = await PostAsync(new { objectId = member.ObjectId, text = "hi" }, SmsFixture.InternalKey, "203.0.113.7", node);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("127.0.0.1", await LoggedIpAsync(phone));
    }

    private async Task<HttpResponseMessage> PostAsync(object body, string? key, string? forwardedFor = null, PanServer? server = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Route) { Content = JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("x-pan-internal-key", key);
        }

        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return await (server ?? fixture.Server).Http.SendAsync(request);
    }

    private async Task<(Member Member, PhoneNumber Phone)> CreateMemberAsync(PhoneNumber? phone = null)
    {
        phone ??= TestPhones.Taiwan();
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var creator = scope.ServiceProvider.GetRequiredService<Pan.Server.Members.MemberCreator>();
        var member = await creator.CreateAsync(new Account { PhoneE164 = phone.E164, PhoneCountryCode = phone.CountryCode }, new Member(), default);
        return (member, phone);
    }

    private async Task<string?> LoggedIpAsync(PhoneNumber phone)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var hash = SmsKeys.Phone(phone);
        return await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<SmsSend>()
            .Where(s => s.PhoneHash == hash).OrderByDescending(s => s.Id).Select(s => s.Ip).FirstAsync();
    }
}

public sealed class LeverSendSmsBehaviour_Sqlite(SqliteSmsFixture f) : LeverSendSmsBehaviour<SqliteSmsFixture>(f);

public sealed class LeverSendSmsBehaviour_Postgres(PostgresSmsFixture f) : LeverSendSmsBehaviour<PostgresSmsFixture>(f);
