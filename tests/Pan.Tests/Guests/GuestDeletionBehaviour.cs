using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Guests;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using PhoneFlowPhones = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.Guests;

/// <summary>
/// A guest without a phone deletes itself through the apinode endpoints: <c>deleteVerify</c> (the step-up: the guest's
/// token, and its password once it has one) gives a del_token, <c>delete</c> spends it on the whole account. A member
/// with a phone is sent to the SMS step-up instead.
/// </summary>
public abstract partial class GuestDeletionBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : GuestFixture
{
    private TimeSpan VerifyTokenLifetime => fixture.Server.Services.GetRequiredService<IOptions<TokenOptions>>().Value.VerifyTokenLifetime;

    private ApinodeClient PlainApp => new(fixture.Server, GuestFixture.PlainApp, fixture.SecretOf(GuestFixture.PlainApp));

    [Fact]
    public async Task TemporaryGuest_GetsADelToken_AndDeletesItsWholeAccount()
    {
        var temp = await PlainApp.CreateTempAsync();
        var verify = await PlainApp.CallAsync("deleteVerify", token: temp.Token);
        Assert.Equal(0, verify.Code);
        var delToken = verify.Value.GetProperty("delToken").GetString()!;
        Assert.Equal((fixture.Server.Clock.GetUtcNow() + VerifyTokenLifetime).ToUnixTimeMilliseconds(), verify.Value.GetProperty("validTo").GetInt64());

        var deleted = await PlainApp.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = delToken }, temp.Token);

        Assert.Equal((0, temp.Id), (deleted.Code, deleted.Id));
        var member = await DbAsync(db => db.Members.AsNoTracking().Include(m => m.Account).FirstAsync(m => m.Uid == temp.Id));
        Assert.NotNull(member.Deleted);
        Assert.NotNull(member.Account!.Deleted);
        Assert.False(await DbAsync(db => db.Set<GuestAccount>().AnyAsync(g => g.Uid == temp.Id)));
        // The guest's credential (its token) is dead on every node: each check reads the database.
        Assert.Equal(-3, (await PlainApp.CallAsync("deleteVerify", token: temp.Token)).Code);
        Assert.Equal(-3, (await PlainApp.CallAsync("logout", token: temp.Token)).Code);
        // The del_token was spent: it cannot be used again, by any route.
        Assert.Equal(-3, (await PlainApp.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = delToken }, temp.Token)).Code);
        Assert.False(await ConsumeAsync(delToken, temp.Id, VerifyPurposes.Delete));
    }

    /// <summary>
    /// A deleted guest's verify tokens go with it, in the deletion's transaction: the del_token it spent, the one a
    /// second deleteVerify gave, and any other it held; so do its apinode tokens.
    /// </summary>
    [Fact]
    public async Task Delete_LeavesNoVerifyTokenOrApinodeTokenOfTheGuest()
    {
        var temp = await PlainApp.CreateTempAsync();
        var delToken = (await PlainApp.CallAsync("deleteVerify", token: temp.Token)).Value.GetProperty("delToken").GetString()!;
        Assert.Equal(0, (await PlainApp.CallAsync("deleteVerify", token: temp.Token)).Code);
        await UseTokensAsync(t => t.IssueVerifyTokenAsync(temp.Id, VerifyPurposes.SwitchMember, default));
        Assert.Equal(3, await DbAsync(db => db.Set<StoredVerifyToken>().CountAsync(t => t.Uid == temp.Id)));

        Assert.Equal(0, (await PlainApp.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = delToken }, temp.Token)).Code);

        Assert.Equal(0, await DbAsync(db => db.Set<StoredVerifyToken>().CountAsync(t => t.Uid == temp.Id)));
        Assert.Equal(0, await DbAsync(db => db.Set<GuestToken>().CountAsync(t => t.Uid == temp.Id)));
    }

    [Fact]
    public async Task ConvertedGuest_ProvesItsPasswordAgain_AndCannotSignInAfterDeletion()
    {
        var (name, passwd, login) = await ConvertAsync();

        Assert.Equal(2, (await PlainApp.CallAsync("deleteVerify", token: login.Token)).Code);
        var wrong = await PlainApp.CallAsync("deleteVerify", new Dictionary<string, string> { ["passwd"] = ApinodeClient.ClientHash() }, login.Token);
        Assert.Equal(3, wrong.Code);
        Assert.False(wrong.Body.TryGetProperty("value", out _));
        // A wrong password counts on the member's one failure counter (SECURITY 10), as at login.
        Assert.Equal(1, await UseAsync<Pan.Server.BruteForce.FailureCounter, int>(f => f.FailuresAsync(login.Id, default)));
        var verify = await PlainApp.CallAsync("deleteVerify", new Dictionary<string, string> { ["passwd"] = passwd }, login.Token);
        Assert.Equal(0, verify.Code);

        var deleted = await PlainApp.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = verify.Value.GetProperty("delToken").GetString()! }, login.Token);

        Assert.Equal(0, deleted.Code);
        Assert.Equal(3, (await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd })).Code);
        Assert.Equal(-3, (await PlainApp.CallAsync("logout", token: login.Token)).Code);
        Assert.True((await PlainApp.CallAsync("accNameOk", new Dictionary<string, string> { ["accName"] = name })).Value.GetProperty("isOk").GetBoolean());
    }

    [Fact]
    public async Task ConvertedGuestWithADisplayName_MayUseVerifyMemberByPassword_AsItsStepUp()
    {
        var temp = await PlainApp.CreateTempAsync();
        var (name, displayName, passwd) = ("gd_" + Guid.NewGuid().ToString("N")[..12], PhoneFlowPhones.NewName(), ApinodeClient.ClientHash());
        var converted = await PlainApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd, ["dspName"] = displayName }, temp.Token);
        Assert.Equal(0, converted.Code);
        var client = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);

        var verify = await client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = displayName, Password = passwd, SessionToken = VerifyPurposes.Delete });

        Assert.Equal(0, (await PlainApp.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = verify.VerifyToken }, converted.Token)).Code);
        Assert.NotNull(await DbAsync(db => db.Members.Where(m => m.Uid == temp.Id).Select(m => m.Deleted).FirstAsync()));
    }

    [Fact]
    public async Task Delete_WithoutAValidDelToken_DeletesNothing()
    {
        var guest = await PlainApp.CreateTempAsync();
        var other = await PlainApp.CreateTempAsync();
        var othersToken = (await PlainApp.CallAsync("deleteVerify", token: other.Token)).Value.GetProperty("delToken").GetString()!;
        var switchToken = (await UseTokensAsync(t => t.IssueVerifyTokenAsync(guest.Id, VerifyPurposes.SwitchMember, default))).Token;

        Assert.Equal(1, (await PlainApp.CallAsync("delete", token: guest.Token)).Code);
        foreach (var wrong in new[] { othersToken, switchToken, "not-a-token" })
        {
            Assert.Equal(2, (await PlainApp.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = wrong }, guest.Token)).Code);
        }

        Assert.Equal(-3, (await PlainApp.CallAsync("deleteVerify", token: ApinodeClient.ClientHash())).Code);
        Assert.Null(await DbAsync(db => db.Members.Where(m => m.Uid == guest.Id).Select(m => m.Deleted).FirstAsync()));
        // The other guest's del_token was not spent by the refused attempt.
        Assert.Equal(0, (await PlainApp.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = othersToken }, other.Token)).Code);
    }

    [Fact]
    public async Task GuestUnderAPhone_CannotUseTheGuestRoute_ToSkipItsSmsStepUp()
    {
        var guest = await PlainApp.CreateTempAsync();
        // As after ValidateNewMember: the guest's member now belongs to a phone account.
        var (_, e164) = PhoneFlowPhones.NewNumber();
        await DbAsync(db => db.Accounts.Where(a => a.Members.Any(m => m.Uid == guest.Id))
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.PhoneE164, e164).SetProperty(a => a.PhoneCountryCode, 886)));
        var smsDelToken = (await UseTokensAsync(t => t.IssueVerifyTokenAsync(guest.Id, VerifyPurposes.Delete, default))).Token;

        Assert.Equal(21, (await PlainApp.CallAsync("deleteVerify", token: guest.Token)).Code);
        Assert.Equal(21, (await PlainApp.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = smsDelToken }, guest.Token)).Code);

        Assert.Null(await DbAsync(db => db.Members.Where(m => m.Uid == guest.Id).Select(m => m.Deleted).FirstAsync()));
        Assert.Equal(1, await DbAsync(db => db.Set<StoredVerifyToken>().CountAsync(t => t.Uid == guest.Id && t.Purpose == VerifyPurposes.Delete && t.UsedAt == null)));
    }

    /// <summary>
    /// deleteVerify proves the guest's own credential (its token, and its password), never a phone: the del_token it
    /// gave while the guest had none must not delete a phone's other members once the guest has joined that phone
    /// (ValidateNewMember), as a proof of one member's password never does from a session that proved that member alone.
    /// </summary>
    [Fact]
    public async Task ADelTokenFromDeleteVerify_AfterTheGuestJoinedAPhone_DeletesNoOtherMemberOfThePhone()
    {
        var temp = await PlainApp.CreateTempAsync();
        var (name, displayName, passwd) = ("gd_" + Guid.NewGuid().ToString("N")[..12], PhoneFlowPhones.NewName(), ApinodeClient.ClientHash());
        var converted = await PlainApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd, ["dspName"] = displayName }, temp.Token);
        Assert.Equal(0, converted.Code);
        var delToken = (await PlainApp.CallAsync("deleteVerify", new Dictionary<string, string> { ["passwd"] = passwd }, converted.Token)).Value.GetProperty("delToken").GetString()!;

        // The phone's holder takes the guest in, with the guest's own proof (ValidateNewMember).
        var owner = await Pan.Tests.Members.TestMembers.CreateAsync(fixture.Server);
        var sibling = await Pan.Tests.Members.TestMembers.AddToPhoneAsync(fixture.Server, owner);
        var client = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);
        async Task<string> GuestsPasswordSessionAsync() => await Pan.Tests.Members.TestMembers.AccessTokenAsync(fixture.Server,
            await Pan.Tests.Members.TestMembers.AuthTokenAsync(fixture.Server, await DbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == temp.Id)), AuthMethods.Password), null);
        await client.ValidateNewMemberAsync(new ValidateNewMemberRequest
        {
            CurrentPhoneAuthToken = await Pan.Tests.Members.TestMembers.AuthTokenAsync(fixture.Server, owner),
            NewMemberAccessToken = await GuestsPasswordSessionAsync(),
            VerifyToken = (await client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = displayName, Password = passwd })).VerifyToken,
        });
        Assert.Equal(owner.AccountId, await DbAsync(db => db.Members.Where(m => m.Uid == temp.Id).Select(m => m.AccountId).FirstAsync()));

        // Signed in again by its password (a session that proved that member alone), the guest spends the del_token.
        var commands = new Pan.General.Member.Dangerous.Command.CommandClient(fixture.Server.Grpc);
        await Errors.ExpectAsync(
            async () => await commands.DeleteAccountAsync(new Pan.General.Member.Dangerous.CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = await GuestsPasswordSessionAsync(), DelToken = delToken }),
            Grpc.Core.StatusCode.PermissionDenied, "CmdDeleteAccountResponse.Error__Failed");

        Assert.Equal(0, await DbAsync(db => db.Members.CountAsync(m => (m.Uid == owner.Uid || m.Uid == sibling.Uid) && m.Deleted != null)));
    }

    /// <summary>A plain-name account converted without activation: (name, passwd, the login answer with its token).</summary>
    private async Task<(string Name, string Passwd, ApinodeAnswer Login)> ConvertAsync()
    {
        var temp = await PlainApp.CreateTempAsync();
        var name = "gd_" + Guid.NewGuid().ToString("N")[..12];
        var passwd = ApinodeClient.ClientHash();
        var converted = await PlainApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd }, temp.Token);
        Assert.Equal(0, converted.Code);
        return (name, passwd, converted);
    }

    private async Task<bool> ConsumeAsync(string token, long uid, string purpose) =>
        await UseTokensAsync(t => t.ConsumeVerifyTokenAsync(token, uid, purpose, default));

    private Task<T> UseTokensAsync<T>(Func<TokenService, Task<T>> work) => UseAsync(work);

    private async Task<T> UseAsync<TService, T>(Func<TService, Task<T>> work)
        where TService : notnull
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    private async Task<T> DbAsync<T>(Func<PanDbContext, Task<T>> work)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<PanDbContext>());
    }
}

public sealed class GuestDeletionBehaviour_Sqlite(SqliteGuestFixture f) : GuestDeletionBehaviour<SqliteGuestFixture>(f);

public sealed class GuestDeletionBehaviour_Postgres(PostgresGuestFixture f) : GuestDeletionBehaviour<PostgresGuestFixture>(f);
