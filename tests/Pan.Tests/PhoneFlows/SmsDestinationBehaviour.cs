using System.Globalization;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Data.Sms;
using Pan.General.Member;
using Pan.Server.Members;
using Pan.Server.Phones;
using Pan.Server.Sms;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;
using V2Phase = Pan.General.Member.ValidatePhoneV2Request.Types.Phase;

namespace Pan.Tests.PhoneFlows;

/// <summary>Numbers libphonenumber calls valid that cannot receive SMS.</summary>
public static class NonMobileNumbers
{
    /// <summary>Numbers libphonenumber calls valid that cannot receive SMS: country code, number as typed, E.164.</summary>
    public static TheoryData<string, string, string> All => new()
    {
        { "886", "02 2345 6789", "+886223456789" }, // Taipei fixed line
        { "886", "0800 000 123", "+886800000123" }, // Taiwanese toll-free
        { "1", "1-800-253-0000", "+18002530000" }, // US toll-free
        { "886", "0204 123 456", "+886204123456" }, // Taiwanese premium rate
        { "1", "900 555 0123", "+19005550123" }, // US premium rate
        { "44", "0909 879 0000", "+449098790000" }, // UK premium rate
        { "44", "070 1234 5678", "+447012345678" }, // UK personal number
        { "44", "056 1234 5678", "+445612345678" }, // UK VoIP
        { "886", "0990 123 456", "+886990123456" }, // Taiwanese personal number
    };
}

/// <summary>
/// Codes go by SMS only to numbers that can receive one: a number typed for register, login or a new phone must be a
/// mobile (or, where the plan cannot tell, a fixed-line-or-mobile) number; anything else is refused before any SMS is sent.
/// </summary>
public abstract class SmsDestinationBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneFlowFixture
{
    private const string Field = "phase_check_existence_value";

    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    private Phones Phones => new(Client, fixture.Inbox);

    [Theory]
    [MemberData(nameof(NonMobileNumbers.All), MemberType = typeof(NonMobileNumbers))]
    public async Task Register_NumberThatCannotReceiveSms_IsInvalidArgumentNamingTheField_AndSendsNothing(string country, string value, string e164)
    {
        var before = fixture.Inbox.Requests;
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.RegisterAsync(new RegisterRequest
        {
            Phase = RegPhase.CheckExistence, PhaseCheckExistenceCountryCode = country, PhaseCheckExistenceValue = value,
        }).ResponseAsync);

        AssertRefused(ex);
        await AssertNothingSentAsync(e164, before);
    }

    [Theory]
    [MemberData(nameof(NonMobileNumbers.All), MemberType = typeof(NonMobileNumbers))]
    public async Task Login_NumberThatCannotReceiveSms_IsInvalidArgumentNamingTheField_AndSendsNothing(string country, string value, string e164)
    {
        var before = fixture.Inbox.Requests;
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.LoginAsync(new LoginRequest
        {
            Phase = LoginPhase.CheckExistence, LoginType = LoginRequest.Types.LoginType.Phone,
            PhaseCheckExistenceCountryCode = country, PhaseCheckExistenceValue = value,
        }).ResponseAsync);

        AssertRefused(ex);
        await AssertNothingSentAsync(e164, before);
    }

    [Fact]
    public async Task ValidatePhone_LandlineForANewPhone_IsInvalidArgumentNamingTheField_AndSendsNothing()
    {
        var access = await PhonelessMemberAccessAsync();
        var before = fixture.Inbox.Requests;
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = "02 2345 6780",
        }).ResponseAsync);

        AssertRefused(ex);
        await AssertNothingSentAsync("+886223456780", before);
    }

    [Fact]
    public async Task Register_TaiwaneseMobile_GetsACode_AndLoginToo()
    {
        var (_, e164) = await Phones.RegisterAsync();

        var start = await Phones.StartLoginAsync(e164);

        Assert.Equal(LoginPhase.InputCode, start.NextPhase);
        Assert.Equal(2, fixture.Inbox.MessagesTo(e164).Count);
    }

    [Fact]
    public async Task Register_UsFixedLineOrMobileNumber_GetsACode_AndLoginToo()
    {
        // Why: the North American plan does not tell mobiles from landlines; libphonenumber calls these FIXED_LINE_OR_MOBILE.
        var local = Random.Shared.Next(2_000_000, 2_999_999).ToString(CultureInfo.InvariantCulture);
        var e164 = "+1650" + local;
        var start = await Client.RegisterAsync(new RegisterRequest
        {
            Phase = RegPhase.CheckExistence, PhaseCheckExistenceCountryCode = "US", PhaseCheckExistenceValue = "(650) " + local[..3] + "-" + local[3..],
        });
        var code = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        await Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        var done = await Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = Phones.NewName() });
        Assert.Equal(RegPhase.Done, done.NextPhase);

        var login = await Phones.StartLoginAsync(e164);

        Assert.Equal(LoginPhase.InputCode, login.NextPhase);
        Assert.Equal(2, fixture.Inbox.MessagesTo(e164).Count);
    }

    [Fact]
    public async Task StoredLandline_StaysReadable_ButGetsNoSignInCode()
    {
        // Why: imported members may carry a landline; Pan reads stored numbers as they are and only refuses to text them.
        const string landline = "+886223456783";
        var access = await MemberAccessAsync(new Account { PhoneE164 = landline, PhoneCountryCode = 886 });

        var me = await Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" });
        Assert.Equal(landline, me.User.Phone);

        var before = fixture.Inbox.Requests;
        AssertRefused(await Assert.ThrowsAsync<RpcException>(() => Phones.StartLoginAsync(landline)));
        await AssertNothingSentAsync(landline, before);
    }

    [Fact]
    public async Task StoredLandline_GetsNoStepUpCode_AndTheStepUpAnswersAsForABlockedSend()
    {
        // Why: step-up texts the member's stored number, which was never typed through the SMS check (an import, an
        // admin, a row older than the check); the SMS gate refuses it as it refuses a country off the allow-list.
        const string landline = "+886223456784";
        var access = await MemberAccessAsync(new Account { PhoneE164 = landline, PhoneCountryCode = 886 });
        var before = fixture.Inbox.Requests;

        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.SendPhoneVerificationAsync(
            new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "switch-member" }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal(before, fixture.Inbox.Requests);
        Assert.Empty(fixture.Inbox.MessagesTo(landline));
        var hash = SmsKeys.Phone(new PhoneNumbers().FromE164(landline)!);
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var send = Assert.Single(await db.Set<SmsSend>().Where(s => s.PhoneHash == hash).ToListAsync());
        Assert.Equal((SmsSendOutcome.Blocked, nameof(SmsBlockReason.CannotReceiveSms)), (send.Outcome, send.BlockedReason));
        var counted = await db.Set<SmsCount>().Where(c => c.Key == "p:" + Convert.ToHexString(hash)).SumAsync(c => (int?)c.Sends) ?? 0;
        Assert.Equal(0, counted);
    }

    private static void AssertRefused(RpcException ex)
    {
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var violation = Assert.Single(ex.BadRequest()!.FieldViolations);
        Assert.Equal(Field, violation.Field);
        Assert.Contains("cannot receive SMS", violation.Description, StringComparison.Ordinal);
    }

    private async Task AssertNothingSentAsync(string e164, int requestsBefore)
    {
        Assert.Equal(requestsBefore, fixture.Inbox.Requests);
        Assert.Empty(fixture.Inbox.MessagesTo(e164));
        var phone = new PhoneNumbers().FromE164(e164) ?? throw new InvalidOperationException(e164 + " is not a valid number");
        var hash = SmsKeys.Phone(phone);
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var rows = await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<SmsSend>().CountAsync(s => s.PhoneHash == hash);
        Assert.Equal(0, rows);
    }

    private Task<string> PhonelessMemberAccessAsync() => MemberAccessAsync(new Account());

    private async Task<string> MemberAccessAsync(Account account)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var member = await scope.ServiceProvider.GetRequiredService<MemberCreator>()
            .CreateAsync(account, new Member { DisplayName = Phones.NewName(), DisplayNameKey = "legacy-" + Guid.NewGuid().ToString("N"), MigrationStatus = 2 }, default);
        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        var auth = await tokens.IssueAuthTokenAsync(member, AuthMethods.Password, default);
        var claims = await tokens.ValidateAuthTokenAsync(auth.Token, default);
        return (await tokens.IssueAccessTokenAsync(claims!, member, "jkforum", default)).Token;
    }
}

public sealed class SmsDestinationBehaviour_Sqlite(SqlitePhoneFlowFixture f) : SmsDestinationBehaviour<SqlitePhoneFlowFixture>(f);

public sealed class SmsDestinationBehaviour_Postgres(PostgresPhoneFlowFixture f) : SmsDestinationBehaviour<PostgresPhoneFlowFixture>(f);
