using Pan.Tests.Admin;

namespace Pan.Tests.Guests;

/// <summary>
/// apinode refuses a suspended guest member: <c>login</c> with the right password answers −20 (no permission), a wrong
/// one the usual 3; the suspension's token generation bump kills its tokens, so <c>convertTemp</c> answers −3.
/// </summary>
public abstract class SuspendedGuestBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : GuestFixture
{
    private ApinodeClient PlainApp => new(fixture.Server, GuestFixture.PlainApp, fixture.SecretOf(GuestFixture.PlainApp));

    [Fact]
    public async Task Login_OfASuspendedGuest_IsMinus20WithTheRightPasswordOnly()
    {
        var temp = await PlainApp.CreateTempAsync();
        var name = "guest_" + Guid.NewGuid().ToString("N")[..10];
        var passwd = ApinodeClient.ClientHash();
        var converted = await PlainApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd }, temp.Token);
        Assert.Equal(0, converted.Code);
        await TestSuspensions.SuspendAsync(fixture.Server, temp.Id);

        Assert.Equal(3, (await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = ApinodeClient.ClientHash() })).Code);
        var refused = await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd });
        Assert.Equal(-20, refused.Code);
        Assert.False(refused.HasToken);

        await TestSuspensions.RestoreAsync(fixture.Server, temp.Id);
        Assert.Equal(0, (await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd })).Code);
    }

    /// <summary>
    /// deleteVerify checks the guest's token and then, in its transaction, holds the member and issues the del_token. A
    /// suspension committing in between (PostgreSQL: the call waits at the member's row) ended the guest's tokens and
    /// verify tokens; the call answers −3 as for its ended token and issues nothing.
    /// </summary>
    [Fact]
    public async Task DeleteVerify_WhileTheGuestsSuspensionIsUncommitted_IsMinus3_AndIssuesNoDelToken()
    {
        var temp = await PlainApp.CreateTempAsync();
        Task<ApinodeAnswer> call;
        await using (var suspension = await UncommittedSuspension.StartAsync(fixture.Server, fixture.Database, temp.Id))
        {
            call = Task.Run(() => PlainApp.CallAsync("deleteVerify", token: temp.Token));
            Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        Assert.Equal(-3, (await call).Code);
        Assert.False(await Pan.Tests.Members.TestMembers.WithDbAsync(fixture.Server,
            db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.Set<Pan.Data.Tokens.StoredVerifyToken>(), t => t.Uid == temp.Id && t.UsedAt == null, default)));
    }

    [Fact]
    public async Task ConvertTemp_OfASuspendedGuest_IsMinus3()
    {
        var temp = await PlainApp.CreateTempAsync();
        await TestSuspensions.SuspendAsync(fixture.Server, temp.Id);

        var converted = await PlainApp.CallAsync("convertTemp",
            new Dictionary<string, string> { ["accName"] = "guest_" + Guid.NewGuid().ToString("N")[..10], ["passwd"] = ApinodeClient.ClientHash() }, temp.Token);

        Assert.Equal(-3, converted.Code);
    }
}

public sealed class SuspendedGuestBehaviour_Sqlite(SqliteGuestFixture f) : SuspendedGuestBehaviour<SqliteGuestFixture>(f);

public sealed class SuspendedGuestBehaviour_Postgres(PostgresGuestFixture f) : SuspendedGuestBehaviour<PostgresGuestFixture>(f);
