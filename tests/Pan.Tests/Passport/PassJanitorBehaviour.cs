using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Passport;
using Pan.Server.Passport;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Passport;

/// <summary>
/// Expired member passes are purged: nothing reads them (a scan needs an unexpired pass, and the next issue replaces
/// the row), and a pass issued while its member's deletion ran is left by the deletion's eraser.
/// </summary>
public abstract class PassJanitorBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    [Fact]
    public async Task Sweep_DeletesExpiredPasses_AndKeepsLiveOnes()
    {
        var now = fixture.Server.Clock.GetUtcNow();
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var uid = (await Members.TestMembers.CreateAsync(fixture.Server)).Uid;
        db.Set<MemberPass>().AddRange(
            new MemberPass { Uid = uid, Kind = PassKinds.Passport, Hash = RandomNumberGenerator.GetBytes(32), Created = now.AddMinutes(-2), Expires = now.AddMinutes(-1) },
            new MemberPass { Uid = uid, Kind = PassKinds.Qr, Hash = RandomNumberGenerator.GetBytes(32), Created = now.AddMinutes(-2), Expires = now.AddMinutes(8) });
        await db.SaveChangesAsync();

        await scope.ServiceProvider.GetRequiredService<PassJanitor>().SweepOnceAsync(default);

        var left = await db.Set<MemberPass>().AsNoTracking().Where(p => p.Uid == uid).Select(p => p.Kind).ToListAsync();
        Assert.Equal([PassKinds.Qr], left);
    }
}

public sealed class PassJanitorBehaviour_Sqlite(SqliteServerFixture f) : PassJanitorBehaviour<SqliteServerFixture>(f);

public sealed class PassJanitorBehaviour_Postgres(PostgresServerFixture f) : PassJanitorBehaviour<PostgresServerFixture>(f);
