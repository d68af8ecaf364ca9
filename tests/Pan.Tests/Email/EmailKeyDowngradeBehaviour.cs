using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Server.Members;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Email;

/// <summary>
/// Going back below migration EmailKeyVerifiedOnly (to every email key unique, verified or not) succeeds while several
/// members hold one address unverified: the verified owner keeps it, otherwise the oldest claim does. The suite owns its
/// database, which it migrates down and up again.
/// </summary>
public abstract class EmailKeyDowngradeBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    /// <summary>The last migration before EmailKeyVerifiedOnly.</summary>
    protected abstract string MigrationBefore { get; }

    [Fact]
    public async Task Downgrade_WithAnAddressClaimedTwiceUnverified_KeepsOneClaimPerAddress_VerifiedFirst()
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var creator = scope.ServiceProvider.GetRequiredService<MemberCreator>();
        var contested = NewAddress();
        var unverifiedOnly = NewAddress();
        async Task<long> ClaimAsync(string address, bool verified) =>
            (await creator.CreateAsync(
                new Account { PhoneE164 = "+8869" + Random.Shared.NextInt64(0, 90_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture), PhoneCountryCode = 886 },
                new Member { DisplayName = "d" + Guid.NewGuid().ToString("N")[..8], DisplayNameKey = Guid.NewGuid().ToString("N"), Email = address, EmailKey = address, EmailVerified = verified },
                default)).Uid;
        var earlySquatter = await ClaimAsync(contested, verified: false);
        var owner = await ClaimAsync(contested, verified: true);
        var lateSquatter = await ClaimAsync(contested, verified: false);
        var first = await ClaimAsync(unverifiedOnly, verified: false);
        var second = await ClaimAsync(unverifiedOnly, verified: false);
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var migrator = db.GetService<IMigrator>();

        await migrator.MigrateAsync(MigrationBefore);

        // Why projected in the query: the older schema lacks the columns later migrations added to members.
        var keys = await db.Members.AsNoTracking()
            .Where(m => new[] { earlySquatter, owner, lateSquatter, first, second }.Contains(m.Uid))
            .Select(m => new { m.Uid, m.Email, m.EmailKey })
            .ToDictionaryAsync(m => m.Uid, m => (m.Email, m.EmailKey));
        Assert.Equal((contested, contested), keys[owner]);
        Assert.Equal((unverifiedOnly, unverifiedOnly), keys[first]);
        Assert.All(new[] { earlySquatter, lateSquatter, second }, uid => Assert.Equal((null, null), keys[uid]));

        await migrator.MigrateAsync(); // and up again, for the rest of the fixture's life
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    private static string NewAddress() => $"claim-{Guid.NewGuid():N}@example.com";
}

public sealed class EmailKeyDowngradeBehaviour_Sqlite(SqliteServerFixture f) : EmailKeyDowngradeBehaviour<SqliteServerFixture>(f)
{
    protected override string MigrationBefore => "20261123065038_OAuthSubjectIndexes";
}

public sealed class EmailKeyDowngradeBehaviour_Postgres(PostgresServerFixture f) : EmailKeyDowngradeBehaviour<PostgresServerFixture>(f)
{
    protected override string MigrationBefore => "20261123065046_OAuthSubjectIndexes";
}
