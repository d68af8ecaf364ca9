using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.PhaseSessions;
using Pan.Data.Sms;
using Pan.Server.PhaseSessions;
using Pan.Server.Phones;
using Pan.Server.Sms;
using Pan.General.Member;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.PhoneFlows;

/// <summary>
/// When the per-phone cap is reached or the country is not allowed, the flow answers CODE_PENDING_10 and the SMS
/// provider is never called; every started flow's send is on record.
/// </summary>
public abstract class SmsCapFlowBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : SmsCapFlowFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    [Fact]
    public async Task PhoneOverItsHourlyCap_IsCodePending10_AndNothingReachesTheProvider()
    {
        var phones = new Phones(Client, fixture.Inbox);
        var (national, e164) = Phones.NewNumber();
        await phones.StartRegisterAsync(national);
        await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);

        await Errors.ExpectAsync(() => phones.StartRegisterAsync(national), StatusCode.ResourceExhausted, "ErrRegister.CODE_PENDING_10");
        Assert.Single(fixture.Inbox.MessagesTo(e164));

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(61));
        await phones.StartRegisterAsync(national);
        await fixture.Inbox.WaitForMessageAsync(e164, 2, Phones.Wait);
        Assert.Equal(2, fixture.Inbox.MessagesTo(e164).Count);
    }

    [Fact]
    public async Task EveryStartedFlow_HasItsSendOnRecord_SentOrBlockedWithTheReason()
    {
        var phones = new Phones(Client, fixture.Inbox);
        var (national, e164) = Phones.NewNumber();
        await phones.StartRegisterAsync(national);
        await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        await Errors.ExpectAsync(() => phones.StartRegisterAsync(national), StatusCode.ResourceExhausted, "ErrRegister.CODE_PENDING_10");

        var (sessions, log) = await RecordsAsync(e164, 886);
        Assert.Equal(2, sessions);
        Assert.Equal([(SmsSendOutcome.Sent, null), (SmsSendOutcome.Blocked, nameof(SmsBlockReason.PhoneHourlyCap))], log);
    }

    [Fact]
    public async Task CountryOffTheAllowList_IsCodePending10_LoggedAsBlocked_AndNothingReachesTheProvider()
    {
        var requests = fixture.Inbox.Requests;
        await Errors.ExpectAsync(
            () => Client.RegisterAsync(new RegisterRequest
            {
                Phase = RegisterRequest.Types.Phase.CheckExistence,
                PhaseCheckExistenceCountryCode = "81",
                PhaseCheckExistenceValue = "090" + Random.Shared.Next(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture),
            }).ResponseAsync,
            StatusCode.ResourceExhausted, "ErrRegister.CODE_PENDING_10");

        Assert.Equal(requests, fixture.Inbox.Requests);
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var last = await db.Set<SmsSend>().AsNoTracking().Where(s => s.CountryCode == 81).OrderByDescending(s => s.Id).FirstAsync();
        Assert.Equal(SmsSendOutcome.Blocked, last.Outcome);
        Assert.Equal(nameof(SmsBlockReason.CountryNotAllowed), last.BlockedReason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ValidatePhone_PhoneOverItsHourlyCap_IsCodePending10InItsOwnEnum(bool v2)
    {
        var (national, e164) = Phones.NewNumber();
        await StartValidationAsync(v2, await Phones.PhonelessAccessTokenAsync(fixture.Server, Phones.NewName()), national);
        await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);

        var second = await Phones.PhonelessAccessTokenAsync(fixture.Server, Phones.NewName());
        await Errors.ExpectAsync(() => StartValidationAsync(v2, second, national), StatusCode.ResourceExhausted,
            v2 ? "ErrValidatePhoneV2.CODE_PENDING_10" : "ErrValidatePhone.CODE_PENDING_10");
        Assert.Single(fixture.Inbox.MessagesTo(e164));
    }

    private async Task StartValidationAsync(bool v2, string access, string national)
    {
        var proof = await Phones.ProofForAsync(fixture.Server, access);
        await (v2
            ? Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
            {
                AccessToken = access, Phase = ValidatePhoneV2Request.Types.Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
                VerifyToken = proof,
            }).ResponseAsync
            : (Task)Client.ValidatePhoneAsync(new ValidatePhoneRequest
            {
                AccessToken = access, Phase = ValidatePhoneRequest.Types.Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
                VerifyToken = proof,
            }).ResponseAsync);
    }

    /// <summary>The sign-up sessions started for a phone, and its SMS log in order (outcome and reason).</summary>
    private async Task<(int Sessions, List<(SmsSendOutcome, string?)> Log)> RecordsAsync(string e164, int countryCode)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var sessions = await db.Set<PhaseSession>().CountAsync(s => s.PhoneE164 == e164 && s.Purpose == PhasePurposes.Register);
        var hash = SmsKeys.Phone(new PhoneNumber(e164, countryCode, string.Empty));
        var log = await db.Set<SmsSend>().AsNoTracking().Where(s => s.PhoneHash == hash).OrderBy(s => s.Id)
            .Select(s => new { s.Outcome, s.BlockedReason }).ToListAsync();
        return (sessions, log.Select(l => (l.Outcome, l.BlockedReason)).ToList());
    }
}

public abstract class SmsCapFlowFixture : PhoneFlowFixture
{
    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["Pan:Sms:Limits:PerPhonePerHour"] = "1";
            settings["Pan:Sms:Limits:PerPhonePerDay"] = "10";
            settings["Pan:Sms:AllowedCountries:0"] = "886";
            return settings;
        }
    }
}

public sealed class SqliteSmsCapFlowFixture : SmsCapFlowFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresSmsCapFlowFixture : SmsCapFlowFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class SmsCapFlowBehaviour_Sqlite(SqliteSmsCapFlowFixture f) : SmsCapFlowBehaviour<SqliteSmsCapFlowFixture>(f);

public sealed class SmsCapFlowBehaviour_Postgres(PostgresSmsCapFlowFixture f) : SmsCapFlowBehaviour<PostgresSmsCapFlowFixture>(f);
