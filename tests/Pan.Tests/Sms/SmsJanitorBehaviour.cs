using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Sms;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Sms;

/// <summary>Old SMS send-log rows and cap-counter buckets are purged; recent ones (which the caps count) stay.</summary>
public abstract class SmsJanitorBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    [Fact]
    public async Task Sweep_DeletesRowsOlderThanTwoDays_AndKeepsRecentOnes()
    {
        var now = fixture.Server.Clock.GetUtcNow();
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var marker = Random.Shared.Next(100_000, 999_999);
        db.Set<SmsSend>().AddRange(
            new SmsSend { PhoneHash = new byte[32], CountryCode = marker, Created = now.AddDays(-3), Purpose = SmsPurpose.Login.ToString() },
            new SmsSend { PhoneHash = new byte[32], CountryCode = marker, Created = now.AddHours(-1), Purpose = SmsPurpose.Login.ToString() });
        await db.SaveChangesAsync();

        await scope.ServiceProvider.GetRequiredService<SmsJanitor>().SweepOnceAsync(default);

        var left = await db.Set<SmsSend>().AsNoTracking().Where(s => s.CountryCode == marker).Select(s => s.Created).ToListAsync();
        Assert.Equal([now.AddHours(-1)], left);
    }

    [Fact]
    public async Task Sweep_DeletesCounterBucketsTheCapsNoLongerRead()
    {
        var now = fixture.Server.Clock.GetUtcNow();
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var key = $"c:{Random.Shared.Next(100_000, 999_999)}";
        SmsCount Bucket(int span, TimeSpan age)
        {
            var (minute, hour) = SmsGate.Buckets(now - age);
            return new SmsCount { Key = key, Span = span, Bucket = span == SmsCount.MinuteSpan ? minute : hour, Sends = 1 };
        }

        db.Set<SmsCount>().AddRange(
            Bucket(SmsCount.MinuteSpan, TimeSpan.FromMinutes(61)), // still read by the hourly caps
            Bucket(SmsCount.MinuteSpan, TimeSpan.FromHours(3)),
            Bucket(SmsCount.HourSpan, TimeSpan.FromHours(25)), // still read by the daily caps
            Bucket(SmsCount.HourSpan, TimeSpan.FromDays(3)));
        await db.SaveChangesAsync();

        await scope.ServiceProvider.GetRequiredService<SmsJanitor>().SweepOnceAsync(default);

        var left = await db.Set<SmsCount>().AsNoTracking().Where(c => c.Key == key).OrderBy(c => c.Span).Select(c => c.Span).ToListAsync();
        Assert.Equal([SmsCount.MinuteSpan, SmsCount.HourSpan], left);
    }
}

public sealed class SmsJanitorBehaviour_Sqlite(SqliteServerFixture f) : SmsJanitorBehaviour<SqliteServerFixture>(f);

public sealed class SmsJanitorBehaviour_Postgres(PostgresServerFixture f) : SmsJanitorBehaviour<PostgresServerFixture>(f);
