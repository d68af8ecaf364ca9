using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.General.Member;
using Pan.Server.Tokens;
using Pan.Tests.Admin;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using V1Phase = Pan.General.Member.ValidatePhoneRequest.Types.Phase;
using V2Phase = Pan.General.Member.ValidatePhoneV2Request.Types.Phase;

namespace Pan.Tests.PhoneFlows;

/// <summary>
/// The member ways in refuse a suspended member (PERMISSION_DENIED MEMBER_SUSPENDED), and only once the credential is
/// proven: phone sign-in (which turns to another unsuspended member of the phone), password sign-in,
/// VerifyMemberByPassword and SwitchMember.
/// </summary>
public abstract class SuspendedSignInBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneFlowFixture
{
    private const string Password = "correct horse battery staple 51";

    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    private Phones Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task LoginByPhone_WhenTheDefaultMemberIsSuspended_SignsInAnotherMemberOfThePhone()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var owner = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, Password);
        await TestSuspensions.SuspendAsync(fixture.Server, owner.Uid);

        var signedIn = await Phones.LoginAsync(e164);

        Assert.Equal(sibling.Uid, (await ClaimsAsync(signedIn)).Uid);
        await Errors.ExpectAsync(() => Phones.AccessTokenAsync(signedIn, owner.ObjectId), StatusCode.PermissionDenied, "MEMBER_SUSPENDED");
    }

    /// <summary>
    /// The seed's flow after a phone sign-in asks AccessToken with no object_id (the default member). When the default
    /// member is suspended the sign-in opened the session for another member; the access token is that member's, as the
    /// sign-in chose, not a refusal of a sign-in that succeeded.
    /// </summary>
    [Fact]
    public async Task AccessToken_WithoutObjectId_AfterAPhoneSignInPastASuspendedDefaultMember_IsTheSignedInMembers()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var owner = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, Password);
        await TestSuspensions.SuspendAsync(fixture.Server, owner.Uid);
        var signedIn = await Phones.LoginAsync(e164);

        var access = await Phones.AccessTokenAsync(signedIn);

        Assert.Equal(sibling.Uid, (await ClaimsOfAccessAsync(access))!.Uid);
        // Restored, the default member is again what no object_id means.
        await TestSuspensions.RestoreAsync(fixture.Server, owner.Uid);
        Assert.Equal(owner.Uid, (await ClaimsOfAccessAsync(await Phones.AccessTokenAsync(signedIn)))!.Uid);
    }

    [Fact]
    public async Task LoginByPhone_WhenEveryMemberIsSuspended_RefusesTheRightCodeOnly_AsMemberSuspended()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var owner = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        var until = fixture.Server.Clock.GetUtcNow().AddDays(1);
        await TestSuspensions.SuspendAsync(fixture.Server, owner.Uid, until);
        var start = await Phones.StartLoginAsync(e164);
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);

        // A wrong code learns nothing of the suspension.
        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code == "000000" ? "111111" : "000000" }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        var refused = await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code }).ResponseAsync,
            StatusCode.PermissionDenied, "MEMBER_SUSPENDED");

        Assert.Equal(("pan", Pan.Server.Suspension.MemberSuspendedException.Rfc3339(until)), (refused.Info().Domain, refused.Info().Metadata["suspended_until"]));
    }

    /// <summary>
    /// Two nodes on one database: node B signs the member in by phone and holds its access token in its cache; a
    /// suspension made on node A ends that token on B, and a phone sign-in B had started (code already sent) is refused
    /// there with the right code.
    /// </summary>
    [Fact]
    public async Task LoginByPhone_OnAnotherNode_AfterASuspensionOnThisNode_IsMemberSuspended_AndItsAccessTokenEnded()
    {
        await using var nodeB = await fixture.StartNodeAsync();
        var clientB = new MemberServiceV2.MemberServiceV2Client(nodeB.Grpc);
        var phonesB = new Phones(clientB, fixture.Inbox);
        var (auth, e164) = await Phones.RegisterAsync();
        var owner = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        var accessB = await phonesB.AccessTokenAsync(await phonesB.LoginAsync(e164));
        await clientB.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = accessB });
        var start = await phonesB.StartLoginAsync(e164);
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 3);

        await TestSuspensions.SuspendAsync(fixture.Server, owner.Uid);

        await Errors.ExpectAsync(
            () => clientB.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = accessB }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
        await Errors.ExpectAsync(
            () => clientB.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code }).ResponseAsync,
            StatusCode.PermissionDenied, "MEMBER_SUSPENDED");
    }

    [Fact]
    public async Task PasswordSignInAndVerifyMemberByPassword_OfASuspendedMember_AreMemberSuspended_OnlyWithTheRightPassword()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, Password);
        await TestSuspensions.SuspendAsync(fixture.Server, sibling.Uid);

        var wrong = await Errors.ReasonOfAsync(() => Phones.PasswordSignInAsync(sibling.DisplayName, Password + "x"));
        Assert.NotEqual("MEMBER_SUSPENDED", wrong);
        await Errors.ExpectAsync(() => Phones.PasswordSignInAsync(sibling.DisplayName, Password), StatusCode.PermissionDenied, "MEMBER_SUSPENDED");
        await Errors.ExpectAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = sibling.DisplayName, Password = Password, SessionToken = "switch-member" }).ResponseAsync,
            StatusCode.PermissionDenied, "MEMBER_SUSPENDED");
        Assert.Equal("VerifyMemberByPasswordResponse.ErrAuthFailed", await Errors.ReasonOfAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = sibling.DisplayName, Password = Password + "x", SessionToken = "switch-member" }).ResponseAsync));
    }

    [Fact]
    public async Task SwitchMember_ToASuspendedMember_IsMemberSuspended()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, Password);
        var access = await Phones.AccessTokenAsync(auth);
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "switch-member" });
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var bySms = await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "switch-member", Code = code });
        await TestSuspensions.SuspendAsync(fixture.Server, sibling.Uid);

        await Errors.ExpectAsync(
            () => Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = access, VerifyToken = bySms.VerifyToken, SwitchToObjectId = sibling.ObjectId, AppId = "jkforum" }).ResponseAsync,
            StatusCode.PermissionDenied, "MEMBER_SUSPENDED");
    }

    /// <summary>
    /// VerifyPhoneCode checks the access token and then, in its transaction, holds the member and issues the verify
    /// token. A suspension committing in between (PostgreSQL: the call waits at the member's row) ended the member's
    /// verify tokens; the call must not mint a new one after it. SQLite runs one writer at a time: there the call sees
    /// the suspension either at its access token or in its transaction.
    /// </summary>
    [Fact]
    public async Task VerifyPhoneCode_WhileTheMembersSuspensionIsUncommitted_IssuesNoVerifyToken()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        var uid = (await ClaimsOfAccessAsync(access))!.Uid;
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "update-credential" });
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        Assert.NotNull(await ClaimsOfAccessAsync(access));

        Task<string> call;
        await using (var suspension = await UncommittedSuspension.StartAsync(fixture.Server, fixture.Database, uid))
        {
            call = Task.Run(async () => (await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "update-credential", Code = code })).VerifyToken);
            var waited = await suspension.WaitUntilBlockingAsync(call);
            Assert.True(waited || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        var reason = await Errors.ReasonOfAsync(() => call);
        if (fixture.Database.Provider == "postgres")
        {
            Assert.Equal("MEMBER_SUSPENDED", reason);
        }

        Assert.False(await TestMembers.WithDbAsync(fixture.Server, db => db.Set<Pan.Data.Tokens.StoredVerifyToken>().AnyAsync(t => t.Uid == uid && t.UsedAt == null)));
    }

    [Fact]
    public async Task ValidatePhoneV2_OfAMemberSuspendedDuringTheFlow_IsTokenInvalid_AndBindsNoPhone()
    {
        var access = await Phones.PhonelessAccessTokenAsync(fixture.Server, Phones.NewName());
        var uid = (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid;
        var (national, e164) = Phones.NewNumber();
        var start = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            VerifyToken = await Phones.ProofForAsync(fixture.Server, access),
        });
        var code = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        await TestSuspensions.SuspendAsync(fixture.Server, uid);

        await Errors.ExpectAsync(
            () => Client.ValidatePhoneV2Async(new ValidatePhoneV2Request { AccessToken = access, Phase = V2Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidatePhoneV2.TOKEN_INVALID");
        Assert.Null(await PhoneOfAsync(uid));
    }

    /// <summary>
    /// The finishing steps of ValidatePhoneV2 (the member takes a new phone) and ValidatePhone (it joins a phone's
    /// account) for a member found suspended after its access token was checked (its suspension's revocation had not
    /// reached the token, as a suspension committing while the step runs): the auth session's INSERT refuses it, and
    /// nothing of the step is kept — no phone, no move, the flow still open for the same request.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ValidatePhone_FinishingForAMemberFoundSuspended_IsMemberSuspended_AndKeepsNothing(bool v2)
    {
        var access = await Phones.PhonelessAccessTokenAsync(fixture.Server, Phones.NewName());
        var uid = (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid;
        var account = await TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == uid).Select(m => m.AccountId).SingleAsync());
        string e164;
        Func<Task<string>> finish;
        if (v2)
        {
            (var national, e164) = Phones.NewNumber();
            var start = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
            {
                AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
                VerifyToken = await Phones.ProofForAsync(fixture.Server, access),
            });
            var code = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
            finish = async () => (await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
            {
                AccessToken = access, Phase = V2Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code,
            })).NewAuthToken;
        }
        else
        {
            (_, e164) = await Phones.RegisterAsync();
            var start = await Client.ValidatePhoneAsync(new ValidatePhoneRequest
            {
                AccessToken = access, Phase = V1Phase.CheckExistence, PhaseCheckExistenceValue = e164, VerifyToken = await Phones.ProofForAsync(fixture.Server, access),
            });
            var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
            finish = async () => (await Client.ValidatePhoneAsync(new ValidatePhoneRequest
            {
                AccessToken = access, Phase = V1Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code,
            })).NewAuthToken;
        }

        await TestMembers.UpdateAsync(fixture.Server, uid, m => m.SuspendedUntil = fixture.Server.Clock.GetUtcNow().AddDays(1));

        await Errors.ExpectAsync(finish, StatusCode.PermissionDenied, "MEMBER_SUSPENDED");

        Assert.Equal(account, await TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == uid).Select(m => m.AccountId).SingleAsync()));
        Assert.Null(await PhoneOfAsync(uid));
        Assert.NotNull(await ClaimsOfAccessAsync(access));
        // Lifted, the same request finishes the flow: the refused step kept nothing, the phase session included.
        await TestMembers.UpdateAsync(fixture.Server, uid, m => m.SuspendedUntil = null);
        Assert.Equal(uid, (await ClaimsAsync(await finish())).Uid);
        Assert.Equal(e164, await PhoneOfAsync(uid));
    }

    /// <summary>
    /// A phone sign-in whose member was suspended and then deleted (both committing after the sign-in found it, before
    /// its session's INSERT), with no other live member on the phone: the INSERT finds nobody to open the session for.
    /// That is the suspension's refusal (the member it found is suspended), not an INTERNAL error.
    /// </summary>
    [Fact]
    public async Task APhoneSessionForAMemberSuspendedThenDeleted_WithNoOtherMember_IsMemberSuspended()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var owner = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        var claims = await ClaimsAsync(auth);
        await TestSuspensions.SuspendAsync(fixture.Server, owner.Uid);
        await using (var deletion = await Deletion.UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, owner.Uid))
        {
            await deletion.CommitAsync();
        }

        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        var subject = new AuthSubject(owner.Uid, Guid.Parse(owner.ObjectId), claims.AccountId) { AnyMemberOfThePhone = true };

        await Assert.ThrowsAsync<Pan.Server.Suspension.MemberSuspendedException>(
            () => tokens.IssueAuthTokenAsync(AuthMethods.Phone, _ => Task.FromResult<AuthSubject?>(subject), default));
    }

    private Task<string?> PhoneOfAsync(long uid) =>
        TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == uid).Select(m => m.Account!.PhoneE164).SingleAsync());

    private async Task<AccessTokenInfo?> ClaimsOfAccessAsync(string access)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAccessTokenAsync(access, default);
    }

    private async Task<AuthTokenClaims> ClaimsAsync(string authToken)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAuthTokenAsync(authToken, default)
            ?? throw new Xunit.Sdk.XunitException("the auth token is not valid");
    }
}

public sealed class SuspendedSignInBehaviour_Sqlite(SqlitePhoneFlowFixture f) : SuspendedSignInBehaviour<SqlitePhoneFlowFixture>(f);

public sealed class SuspendedSignInBehaviour_Postgres(PostgresPhoneFlowFixture f) : SuspendedSignInBehaviour<PostgresPhoneFlowFixture>(f);
