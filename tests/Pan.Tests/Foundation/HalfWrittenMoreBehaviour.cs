using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data.Accounts;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.General.Member.Dangerous;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using static Pan.Tests.Foundation.HalfWrittenChecks;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21 for DeleteAccount (a whole phone account: every member) and SwitchMember: the LAST write of each is made
/// to fail on the real database (<see cref="FailureTriggers"/>), nothing of the earlier writes may be left, the step-up
/// token is not spent, and once the trigger is gone the same request succeeds.
/// </summary>
public abstract class HalfWrittenMoreBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ExtrasFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Fact]
    public async Task DeleteAccount_WhenItsAuditEntryFails_ErasesNoMemberAndKeepsThePhoneAndTheDelToken_WhichThenDeletes()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var ownerAccess = await TestMembers.AccessTokenAsync(Server, owner);
        var siblingAccess = await TestMembers.AccessTokenAsync(Server, sibling);
        var phone = await DbAsync(db => db.Set<Account>().Where(a => a.Id == owner.AccountId).Select(a => a.PhoneE164).SingleAsync());
        var delToken = await VerifyTokenAsync(Server, owner.Uid, VerifyPurposes.Delete);
        var delete = new CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = ownerAccess, DelToken = delToken };
        var commands = new Command.CommandClient(Server.Grpc);

        // The last write: the account's audit entry, after both members' tombstones, the account's, the revocation of
        // every session of the account, every eraser, the phase sessions and the members' audit entries.
        await using (await FailAsync("audit_log", TriggeredWrite.Insert, "NEW.action = 'account.delete'"))
        {
            await ExpectInternalAsync(() => commands.DeleteAccountAsync(delete).ResponseAsync);
        }

        var account = await DbAsync(db => db.Set<Account>().AsNoTracking().SingleAsync(a => a.Id == owner.AccountId));
        Assert.Equal((phone, (DateTimeOffset?)null), (account.PhoneE164, account.Deleted));
        Assert.Equal(0, await DbAsync(db => db.Members.CountAsync(m => m.AccountId == owner.AccountId && m.Deleted != null)));
        Assert.Equal(0, await DbAsync(db => db.Set<AuthSession>().CountAsync(s => s.AccountId == owner.AccountId && s.Revoked != null)));
        Assert.False(await DbAsync(db => db.Set<StoredVerifyToken>().AnyAsync(t => t.Uid == owner.Uid && t.UsedAt != null)));
        Assert.Equal(owner.Uid, (await Client.MeAsync(new MeRequest { AccessToken = ownerAccess })).User.Uid);
        Assert.Equal(sibling.Uid, (await Client.MeAsync(new MeRequest { AccessToken = siblingAccess })).User.Uid);

        // The del_token was not spent: the same command now deletes the account and both members.
        await commands.DeleteAccountAsync(delete);
        Assert.NotNull(await DbAsync(db => db.Set<Account>().Where(a => a.Id == owner.AccountId).Select(a => a.Deleted).SingleAsync()));
        Assert.Equal(2, await DbAsync(db => db.Members.CountAsync(m => m.AccountId == owner.AccountId && m.Deleted != null)));
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = siblingAccess }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
    }

    [Fact]
    public async Task SwitchMember_WhenOpeningTheTargetsAuthSessionFails_KeepsTheVerifyToken_AndTheSameRequestThenSwitches()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var ownerAccess = await TestMembers.AccessTokenAsync(Server, owner);
        var verify = await VerifyTokenAsync(Server, owner.Uid, VerifyPurposes.SwitchMember);
        var request = new SwitchMemberRequest { PanAccessToken = ownerAccess, VerifyToken = verify, SwitchToObjectId = sibling.ObjectId.ToString("D"), AppId = "jkforum" };
        var sessions = await DbAsync(db => db.Set<AuthSession>().CountAsync(s => s.Uid == sibling.Uid));

        // The last write: the target member's auth session, after the verify token was spent.
        await using (await FailAsync("auth_sessions", TriggeredWrite.Insert, FailureTriggers.UidIs(TriggeredWrite.Insert, sibling.Uid)))
        {
            await ExpectInternalAsync(() => Client.SwitchMemberAsync(request).ResponseAsync);
        }

        Assert.Equal(sessions, await DbAsync(db => db.Set<AuthSession>().CountAsync(s => s.Uid == sibling.Uid)));
        Assert.False(await DbAsync(db => db.Set<StoredVerifyToken>().AnyAsync(t => t.Uid == owner.Uid && t.UsedAt != null)));

        // The verify token was not spent: the same request now hands out an auth token for the other member.
        var switched = await Client.SwitchMemberAsync(request);
        Assert.Equal(sibling.ObjectId.ToString("D"), switched.ObjectId);
        var access = await TestMembers.AccessTokenAsync(Server, switched.AuthToken, sibling);
        Assert.Equal(sibling.Uid, (await Client.MeAsync(new MeRequest { AccessToken = access })).User.Uid);
        await Errors.ExpectAsync(() => Client.SwitchMemberAsync(request).ResponseAsync, StatusCode.PermissionDenied, "SwitchMemberResponse.ErrVerifyTokenInvalid");
    }

    private Task<IAsyncDisposable> FailAsync(string table, TriggeredWrite write, string? when = null) =>
        FailureTriggers.FailAsync(Server, fixture.Database, table, write, when);

    private Task<T> DbAsync<T>(Func<Pan.Data.PanDbContext, Task<T>> query) => TestMembers.WithDbAsync(Server, query);
}

public sealed class HalfWrittenMoreBehaviour_Sqlite(SqliteExtrasFixture f) : HalfWrittenMoreBehaviour<SqliteExtrasFixture>(f);

public sealed class HalfWrittenMoreBehaviour_Postgres(PostgresExtrasFixture f) : HalfWrittenMoreBehaviour<PostgresExtrasFixture>(f);
