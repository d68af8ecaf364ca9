using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.PhoneFlows;

/// <summary>When the per-phone cap is reached, the flow answers CODE_PENDING_10 and the SMS provider is never called.</summary>
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
