using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Data.PhaseSessions;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Pan.Tests.PhoneFlows;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;
using V1Phase = Pan.General.Member.ValidatePhoneRequest.Types.Phase;
using V2Phase = Pan.General.Member.ValidatePhoneV2Request.Types.Phase;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21 for ValidatePhone / ValidatePhoneV2: the finishing step (spending the phase session, moving the member under
/// the phone or binding the phone to its account, its migration status, ending its old sessions, opening the phone-level
/// session) is one transaction, proved on each of the four ways to finish: V2 joining an existing phone and taking a new
/// one (INPUT_CODE), V1 taking a new phone and joining an existing one, both with a rename (INPUT_NAME). Its LAST write, the new auth session's row, is made to fail (<see cref="FailureTriggers"/>):
/// the member has not moved, its old sessions still work, the phase session is not spent, and the same finishing request
/// then succeeds.
/// </summary>
public abstract class HalfWrittenPhoneValidationBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneFlowFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    private PhoneFlow Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task ValidatePhoneV2_CheckExistence_WhenStartingTheFlowFails_KeepsTheVerifyToken_TextsNothing_AndTheSameRequestThenStartsIt()
    {
        var (member, access) = await PhonelessMemberAsync(PhoneFlow.NewName());
        var (national, e164) = PhoneFlow.NewNumber();
        var proof = await PhoneFlow.ProofForAsync(Server, access);
        var start = new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national, VerifyToken = proof,
        };

        // The last write: the flow's row (after the verify token's use).
        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "phase_sessions", TriggeredWrite.Insert, member.Uid))
        {
            await HalfWrittenChecks.ExpectInternalAsync(() => Client.ValidatePhoneV2Async(start).ResponseAsync);
        }

        await using (var scope = Server.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<TokenService>().VerifyTokenIsLiveAsync(proof, member.Uid, VerifyPurposes.UpdateCredential, default));
        }

        Assert.Empty(fixture.Inbox.MessagesTo(e164));
        await Client.ValidatePhoneV2Async(start);
        Assert.NotEmpty(await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlow.Wait));
    }

    [Fact]
    public async Task ValidatePhoneV2_JoiningAnExistingPhone_WhenOpeningTheNewSessionFails_LeavesTheMemberWhereItWas_AndTheSameCodeThenJoins()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var targetAccount = await DbAsync(db => db.Set<Account>().Where(a => a.PhoneE164 == e164).Select(a => a.Id).SingleAsync());
        var (member, access) = await PhonelessMemberAsync(PhoneFlow.NewName());
        var start = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceValue = e164, VerifyToken = await PhoneFlow.ProofForAsync(Server, access),
        });
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2);
        var finish = new ValidatePhoneV2Request { AccessToken = access, Phase = V2Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code };

        // The last write: the phone-level auth session's row (after the session was spent, the member moved, its status
        // set and its old sessions ended).
        await FailingTheNewSessionAsync(member.Uid, () => Client.ValidatePhoneV2Async(finish).ResponseAsync);

        await AssertUntouchedAsync(member, access);

        var done = await Client.ValidatePhoneV2Async(finish);
        Assert.Equal(V2Phase.Done, done.NextPhase);
        var me = await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(done.NewAuthToken, member.ObjectId.ToString()), AppId = "jkforum" });
        Assert.Equal((member.Uid, e164), (me.User.Uid, me.User.Phone));
        Assert.Equal(targetAccount, await DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.AccountId).SingleAsync()));
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
    }

    [Fact]
    public async Task ValidatePhone_TakingANewPhoneWithANewName_WhenOpeningTheNewSessionFails_BindsNothing_AndTheSameNameStepThenSucceeds()
    {
        var (member, access) = await PhonelessMemberAsync("bad name!!");
        var (national, e164) = PhoneFlow.NewNumber();
        var start = await Client.ValidatePhoneAsync(new ValidatePhoneRequest
        {
            AccessToken = access, Phase = V1Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            VerifyToken = await PhoneFlow.ProofForAsync(Server, access),
        });
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlow.Wait);
        var (finish, name) = await ToNameStepAsync(access, start.PhaseSessionToken, code);

        // The last write: the phone-level auth session's row (after the session was spent, the phone bound to the member's
        // account, the rename, its status and its old sessions ended).
        await FailingTheNewSessionAsync(member.Uid, () => Client.ValidatePhoneAsync(finish).ResponseAsync);

        await AssertUntouchedAsync(member, access);
        Assert.False(await DbAsync(db => db.Set<Account>().AnyAsync(a => a.PhoneE164 == e164)));
        Assert.Equal("bad name!!", await DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.DisplayName).SingleAsync()));

        var done = await Client.ValidatePhoneAsync(finish);
        Assert.Equal(V1Phase.Done, done.NextPhase);
        var me = await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(done.NewAuthToken), AppId = "jkforum" });
        Assert.Equal((member.Uid, e164, name), (me.User.Uid, me.User.Phone, me.User.DisplayName));
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
    }

    [Fact]
    public async Task ValidatePhoneV2_TakingANewPhone_WhenOpeningTheNewSessionFails_BindsNothing_AndTheSameCodeThenBindsIt()
    {
        var (member, access) = await PhonelessMemberAsync(PhoneFlow.NewName());
        var (national, e164) = PhoneFlow.NewNumber();
        var start = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            VerifyToken = await PhoneFlow.ProofForAsync(Server, access),
        });
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlow.Wait);
        var finish = new ValidatePhoneV2Request { AccessToken = access, Phase = V2Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code };

        // The last write: the phone-level auth session's row (after the session was spent, the phone bound to the member's
        // account, its status set and its old sessions ended).
        await FailingTheNewSessionAsync(member.Uid, () => Client.ValidatePhoneV2Async(finish).ResponseAsync);

        await AssertUntouchedAsync(member, access);
        Assert.False(await DbAsync(db => db.Set<Account>().AnyAsync(a => a.PhoneE164 == e164)));

        var done = await Client.ValidatePhoneV2Async(finish);
        Assert.Equal(V2Phase.Done, done.NextPhase);
        var me = await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(done.NewAuthToken), AppId = "jkforum" });
        Assert.Equal((member.Uid, e164), (me.User.Uid, me.User.Phone));
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
    }

    [Fact]
    public async Task ValidatePhone_JoiningAnExistingPhoneWithANewName_WhenOpeningTheNewSessionFails_LeavesTheMemberWhereItWas_AndTheSameNameStepThenJoins()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var targetAccount = await DbAsync(db => db.Set<Account>().Where(a => a.PhoneE164 == e164).Select(a => a.Id).SingleAsync());
        var (member, access) = await PhonelessMemberAsync("bad name!!");
        var start = await Client.ValidatePhoneAsync(new ValidatePhoneRequest
        {
            AccessToken = access, Phase = V1Phase.CheckExistence, PhaseCheckExistenceValue = e164, VerifyToken = await PhoneFlow.ProofForAsync(Server, access),
        });
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2);
        var (finish, name) = await ToNameStepAsync(access, start.PhaseSessionToken, code);

        // The last write: the phone-level auth session's row (after the session was spent, the member moved under the
        // phone, renamed, its status set and its old sessions ended).
        await FailingTheNewSessionAsync(member.Uid, () => Client.ValidatePhoneAsync(finish).ResponseAsync);

        await AssertUntouchedAsync(member, access);
        Assert.Equal("bad name!!", await DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.DisplayName).SingleAsync()));

        var done = await Client.ValidatePhoneAsync(finish);
        Assert.Equal(V1Phase.Done, done.NextPhase);
        var me = await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(done.NewAuthToken, member.ObjectId.ToString()), AppId = "jkforum" });
        Assert.Equal((member.Uid, e164, name, false), (me.User.Uid, me.User.Phone, me.User.DisplayName, me.User.IsOwner));
        Assert.Equal(targetAccount, await DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.AccountId).SingleAsync()));
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
    }

    /// <summary>Nothing of the finishing step is left: same account, same status, old sessions alive, phase session unspent.</summary>
    /// <summary>Runs <paramref name="call"/> while the member's new auth session cannot be stored: it must answer INTERNAL.</summary>
    private async Task FailingTheNewSessionAsync(long uid, Func<Task> call)
    {
        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "auth_sessions", TriggeredWrite.Insert, uid))
        {
            await HalfWrittenChecks.ExpectInternalAsync(call);
        }
    }

    /// <summary>Sends the code of a V1 flow that asks for a name next, and the name step to finish it with.</summary>
    private async Task<(ValidatePhoneRequest Finish, string Name)> ToNameStepAsync(string access, string sessionToken, string code)
    {
        var afterCode = await Client.ValidatePhoneAsync(new ValidatePhoneRequest { AccessToken = access, Phase = V1Phase.InputCode, PhaseSessionToken = sessionToken, PhaseInputCodeValue = code });
        Assert.Equal(V1Phase.InputName, afterCode.NextPhase);
        var name = PhoneFlow.NewName();
        return (new ValidatePhoneRequest { AccessToken = access, Phase = V1Phase.InputName, PhaseSessionToken = sessionToken, PhaseInputNameValue = name }, name);
    }

    private async Task AssertUntouchedAsync(Member member, string access)
    {
        var stored = await DbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == member.Uid));
        Assert.Equal((member.AccountId, member.IsOwner, member.MigrationStatus, member.TokenGeneration), (stored.AccountId, stored.IsOwner, stored.MigrationStatus, stored.TokenGeneration));
        Assert.Null(await DbAsync(db => db.Set<Account>().Where(a => a.Id == member.AccountId).Select(a => a.PhoneE164).SingleAsync()));
        Assert.Equal(0, await DbAsync(db => db.Set<AuthSession>().CountAsync(s => s.Uid == member.Uid && s.Revoked != null)));
        Assert.False(await DbAsync(db => db.Set<PhaseSession>().AnyAsync(s => s.Uid == member.Uid && s.CompletedAt != null)));
        Assert.Equal(member.Uid, (await Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" })).User.Uid);
    }

    private Task<T> DbAsync<T>(Func<Pan.Data.PanDbContext, Task<T>> query) => TestMembers.WithDbAsync(Server, query);

    /// <summary>A member imported without a phone and signed in (its access token), as legacy stores leave them.</summary>
    private async Task<(Member Member, string Access)> PhonelessMemberAsync(string name)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var member = await scope.ServiceProvider.GetRequiredService<MemberCreator>()
            .CreateAsync(new Account(), new Member { DisplayName = name, DisplayNameKey = "legacy-" + Guid.NewGuid().ToString("N"), MigrationStatus = 2 }, default);
        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        var auth = await tokens.IssueAuthTokenAsync(member, AuthMethods.Password, default);
        var claims = await tokens.ValidateAuthTokenAsync(auth.Token, default);
        var access = (await tokens.IssueAccessTokenAsync(claims!, member, "jkforum", default)).Token;
        return (await DbAsync(db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == member.Uid)), access);
    }
}

public sealed class HalfWrittenPhoneValidationBehaviour_Sqlite(SqlitePhoneFlowFixture f) : HalfWrittenPhoneValidationBehaviour<SqlitePhoneFlowFixture>(f);

public sealed class HalfWrittenPhoneValidationBehaviour_Postgres(PostgresPhoneFlowFixture f) : HalfWrittenPhoneValidationBehaviour<PostgresPhoneFlowFixture>(f);
