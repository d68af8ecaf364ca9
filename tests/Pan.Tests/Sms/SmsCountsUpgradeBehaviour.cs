using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Sms;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Sms;

/// <summary>
/// Upgrading to the cap counters (migration SmsCounts) counts the sends already in the log, so no cap starts again from
/// zero. Fixture caps: phone 3 an hour.
/// </summary>
public abstract class SmsCountsUpgradeBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : SmsFixture
{
    /// <summary>The last migration before SmsCounts.</summary>
    protected abstract string MigrationBefore { get; }

    [Fact]
    public async Task Upgrade_CountsTheLoggedSendsThatWereNotBlocked()
    {
        fixture.FreshWindow();
        await using var database = fixture.Database.Provider == "sqlite"
            ? new SqliteTestDatabase()
            : (ITestDatabase)await PostgresTestDatabase.CreateAsync();
        await using var server = await PanServer.StartAsync(database, fixture.Settings(), fixture.Clock);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(MigrationBefore); // back to the schema before the counters (the server migrated up)

        var phone = TestPhones.Taiwan();
        var other = TestPhones.Taiwan();
        var earlier = fixture.Clock.GetUtcNow().AddMinutes(-10);
        SmsSend Logged(Pan.Server.Phones.PhoneNumber to, SmsSendOutcome outcome) => new()
        {
            PhoneHash = SmsKeys.Phone(to), CountryCode = to.CountryCode, Ip = "192.0.2.1", Purpose = nameof(SmsPurpose.Login),
            Outcome = outcome, BlockedReason = outcome == SmsSendOutcome.Blocked ? nameof(SmsBlockReason.PhoneHourlyCap) : null,
            Created = earlier,
        };
        db.AddRange(
            Logged(phone, SmsSendOutcome.Sent), Logged(phone, SmsSendOutcome.Failed), Logged(phone, SmsSendOutcome.Pending),
            Logged(other, SmsSendOutcome.Sent), Logged(other, SmsSendOutcome.Blocked), Logged(other, SmsSendOutcome.Blocked));
        await db.SaveChangesAsync();

        await migrator.MigrateAsync();

        var gate = scope.ServiceProvider.GetRequiredService<SmsGate>();
        var toPhone = await gate.SendAsync(phone, "Your Pan code is 123456", SmsPurpose.Login, TestPhones.Ip(), default);
        Assert.Equal(new SmsSendResult(false, SmsBlockReason.PhoneHourlyCap), toPhone); // three logged sends count
        var toOther = await gate.SendAsync(other, "Your Pan code is 123456", SmsPurpose.Login, TestPhones.Ip(), default);
        Assert.True(toOther.Sent); // one counted send; the blocked two do not count
        var counted = await db.Set<SmsCount>().AsNoTracking()
            .Where(c => c.Key == "c:886" || c.Key == "i:192.0.2.1")
            .GroupBy(c => new { c.Key, c.Span }).Select(g => new { g.Key.Key, g.Key.Span, Sends = g.Sum(c => c.Sends) })
            .OrderBy(c => c.Key).ThenBy(c => c.Span).ToListAsync();
        Assert.Equal(
            [new { Key = "c:886", Span = 1, Sends = 5 }, new { Key = "c:886", Span = 60, Sends = 5 }, new { Key = "i:192.0.2.1", Span = 1, Sends = 4 }, new { Key = "i:192.0.2.1", Span = 60, Sends = 4 }],
            counted);
    }
}

public sealed class SmsCountsUpgradeBehaviour_Sqlite(SqliteSmsFixture f) : SmsCountsUpgradeBehaviour<SqliteSmsFixture>(f)
{
    protected override string MigrationBefore => "20261122200259_OAuthProvider";
}

public sealed class SmsCountsUpgradeBehaviour_Postgres(PostgresSmsFixture f) : SmsCountsUpgradeBehaviour<PostgresSmsFixture>(f)
{
    protected override string MigrationBefore => "20261122212316_ChangeNotifications";
}
