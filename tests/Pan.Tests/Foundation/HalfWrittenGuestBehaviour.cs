using Microsoft.EntityFrameworkCore;
using Pan.Data.Credentials;
using Pan.Data.Guests;
using Pan.Tests.Guests;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21 for apinode convertTemp (guest to permanent): its last write is made to fail (<see cref="FailureTriggers"/>)
/// and nothing of the earlier writes may be left; once the trigger is gone the same call succeeds.
/// </summary>
public abstract class HalfWrittenGuestBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : GuestFixture
{
    private ApinodeClient PlainApp => new(fixture.Server, GuestFixture.PlainApp, fixture.SecretOf(GuestFixture.PlainApp));

    [Fact]
    public async Task ConvertTemp_WhenIssuingTheLoginTokenFails_LeavesTheGuestTemporary_AndTheSameCallThenConverts()
    {
        var temp = await PlainApp.CreateTempAsync();
        var generation = await DbAsync(db => db.Members.Where(m => m.Uid == temp.Id).Select(m => m.TokenGeneration).SingleAsync());
        var name = "hw_" + Guid.NewGuid().ToString("N")[..12];
        var passwd = ApinodeClient.ClientHash();
        var parameters = new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd };

        // The last write of a conversion without activation: the login token's row (after the claim of the guest row,
        // the member, the password and the revocation of the temporary token).
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "guest_tokens", TriggeredWrite.Insert, temp.Id))
        {
            var failed = await PlainApp.CallAsync("convertTemp", parameters, temp.Token);
            // Why -100: the apinode envelope's internal error (Pan.Server.Guests.ApinodeCodes.InternalError), HTTP 200.
            Assert.Equal((200, -100, false), (failed.Status, failed.Code, failed.HasToken));
            Assert.DoesNotContain(FailureTriggers.Message, failed.Message, StringComparison.Ordinal);
        }

        var guest = await DbAsync(db => db.Set<GuestAccount>().AsNoTracking().SingleAsync(g => g.Uid == temp.Id));
        Assert.True(guest.Temporary);
        Assert.Null(guest.AccountName);
        Assert.Null(guest.Converted);
        Assert.Null(await DbAsync(db => db.Set<MemberCredential>().Where(c => c.Uid == temp.Id).Select(c => c.PasswordHash).SingleOrDefaultAsync()));
        Assert.Equal(generation, await DbAsync(db => db.Members.Where(m => m.Uid == temp.Id).Select(m => m.TokenGeneration).SingleAsync()));
        var early = await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd });
        Assert.NotEqual(0, early.Code);
        Assert.False(early.HasToken);

        // The temporary token still works: the same call now converts, and the name and password sign in.
        var converted = await PlainApp.CallAsync("convertTemp", parameters, temp.Token);
        Assert.Equal((0, true), (converted.Code, converted.HasToken));
        var login = await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd });
        Assert.Equal((0, true), (login.Code, login.HasToken));
    }

    private Task<T> DbAsync<T>(Func<Pan.Data.PanDbContext, Task<T>> query) => TestMembers.WithDbAsync(fixture.Server, query);
}

public sealed class HalfWrittenGuestBehaviour_Sqlite(SqliteGuestFixture f) : HalfWrittenGuestBehaviour<SqliteGuestFixture>(f);

public sealed class HalfWrittenGuestBehaviour_Postgres(PostgresGuestFixture f) : HalfWrittenGuestBehaviour<PostgresGuestFixture>(f);
