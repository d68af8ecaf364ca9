using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.PhoneFlows;

/// <summary>
/// The two steps that tell whether a phone has an account (Login's and Register's check-existence) count against the
/// client address; past <c>Pan:PhoneLookups:PerIpPerHour</c> both answer CODE_PENDING_10 whether the phone has an
/// account or not, send nothing, and the next hour's window admits the address again (SECURITY 15).
/// </summary>
public abstract class PhoneLookupLimitBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneLookupLimitFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    [Fact]
    public async Task LookupsPastTheHourlyLimit_AnswerCodePending10_ForKnownAndUnknownPhones_UntilTheNextWindow()
    {
        var phones = new Phones(Client, fixture.Inbox);
        // Why at the start of a window: the limit counts fixed clock hours; a window must not end inside the test.
        var now = fixture.Server.Clock.GetUtcNow();
        fixture.Server.Clock.Advance(TimeSpan.FromHours(1) - TimeSpan.FromTicks(now.Ticks % TimeSpan.TicksPerHour) + TimeSpan.FromSeconds(1));
        var (_, known) = await phones.RegisterAsync(); // one lookup
        var (_, unknown) = Phones.NewNumber();

        await Errors.ExpectAsync(() => phones.StartLoginAsync(unknown), StatusCode.NotFound, "ErrLogin.NOT_FOUND"); // two
        await Errors.ExpectAsync(() => phones.StartRegisterAsync("0" + known[4..]), StatusCode.AlreadyExists, "ErrRegister.EXISTING_MEMBER"); // three
        var sent = fixture.Inbox.Requests;

        await Errors.ExpectAsync(() => phones.StartLoginAsync(unknown), StatusCode.ResourceExhausted, "ErrLogin.CODE_PENDING_10");
        await Errors.ExpectAsync(() => phones.StartLoginAsync(known), StatusCode.ResourceExhausted, "ErrLogin.CODE_PENDING_10");
        await Errors.ExpectAsync(() => phones.StartRegisterAsync("0" + known[4..]), StatusCode.ResourceExhausted, "ErrRegister.CODE_PENDING_10");
        await Errors.ExpectAsync(() => phones.StartRegisterAsync("0" + unknown[4..]), StatusCode.ResourceExhausted, "ErrRegister.CODE_PENDING_10");
        Assert.Equal(sent, fixture.Inbox.Requests);

        fixture.Server.Clock.Advance(TimeSpan.FromHours(1));
        await Errors.ExpectAsync(() => phones.StartLoginAsync(unknown), StatusCode.NotFound, "ErrLogin.NOT_FOUND");
    }
}

public abstract class PhoneLookupLimitFixture : PhoneFlowFixture
{
    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["Pan:PhoneLookups:PerIpPerHour"] = "3";
            return settings;
        }
    }
}

public sealed class SqlitePhoneLookupLimitFixture : PhoneLookupLimitFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresPhoneLookupLimitFixture : PhoneLookupLimitFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class PhoneLookupLimitBehaviour_Sqlite(SqlitePhoneLookupLimitFixture f) : PhoneLookupLimitBehaviour<SqlitePhoneLookupLimitFixture>(f);

public sealed class PhoneLookupLimitBehaviour_Postgres(PostgresPhoneLookupLimitFixture f) : PhoneLookupLimitBehaviour<PostgresPhoneLookupLimitFixture>(f);
