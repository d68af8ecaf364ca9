using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Data.PhaseSessions;
using Pan.Server.BruteForce;
using Pan.General.Member;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Tests.Deletion;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.PhoneFlows;

/// <summary>Several members under one phone, and switching between them after an SMS step-up.</summary>
public abstract class MemberProfileBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneFlowFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    private Phones Phones => new(Client, fixture.Inbox);

    private const string SiblingPassword = "tangerine orbit 58";

    private const string OtherSiblingPassword = "velvet harbor lantern 7";

    [Fact]
    public async Task SendPhoneVerification_WhileTheMembersDeletionIsUncommitted_AnswersLikeAGoneMember_AndTextsNothing()
    {
        // The call finds the member and its phone while the deletion's transaction is still open (on PostgreSQL it
        // still looks live); the code it then issues must wait for the deletion and find no live member.
        var (auth, e164) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        var uid = (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid;
        Task<SendPhoneVerificationResponse> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, uid))
        {
            call = Task.Run(() => Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "delete" }).ResponseAsync);
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        // What SendPhoneVerification answers for a member that is gone (or whose access token went with it).
        await Errors.ExpectAsync(() => call, StatusCode.Unauthenticated, "SendPhoneVerificationResponse.ErrFailed");
        Assert.Single(fixture.Inbox.MessagesTo(e164));
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<PhaseSession>().AnyAsync(s => s.Uid == uid));
    }

    [Fact]
    public async Task NewMember_AddsProfilesUpToTheLimit_ThenMaximumMember()
    {
        var (auth, _) = await Phones.RegisterAsync();
        for (var i = 1; i < 5; i++)
        {
            var created = await Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() });
            Assert.False(created.Object.IsOwner);
        }

        await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() }).ResponseAsync,
            StatusCode.ResourceExhausted, "ErrNewMember.MAXIMUM_MEMBER");
    }

    [Fact]
    public async Task NewMember_InParallelAtTheLimit_NeverExceedsIt()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Phones.StatusOf(() =>
            Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() }).ResponseAsync)));
        Assert.Equal(4, results.Count(r => r == StatusCode.OK));
        Assert.All(results.Where(r => r != StatusCode.OK), r => Assert.Equal(StatusCode.ResourceExhausted, r));

        var access = await Phones.AccessTokenAsync(auth);
        var others = await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = access });
        Assert.Equal(4, others.Objects.Count);
    }

    [Fact]
    public async Task NewMember_BadTokenOrName_AreRefused()
    {
        var (auth, _) = await Phones.RegisterAsync();
        await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = "bad", DisplayName = Phones.NewName() }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrNewMember.TOKEN_INVALID");
        await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = "?" }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrNewMember.DISPLAY_NAME_INVALID");
        await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName(), Password = "a", ConfirmPassword = "b" }).ResponseAsync,
            StatusCode.InvalidArgument, "NewMemberResponse.ErrPasswordConfirmingFailed");
        await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName(), ConfirmPassword = "b" }).ResponseAsync,
            StatusCode.InvalidArgument, "NewMemberResponse.ErrPasswordIsEmpty");
    }

    [Fact]
    public async Task NewMember_UnderAnAuthTokenWhoseAccountHasNoPhone_IsFailedPrecondition_AndCreatesNothing()
    {
        // Why: members are kept under a phone (MAXIMUM_MEMBER counts "the members under the phone"), as ValidateNewMember
        // requires; an imported member signed in by password has no phone, and a member created there would be under none.
        string auth;
        long account;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var legacy = await scope.ServiceProvider.GetRequiredService<MemberCreator>().CreateAsync(
                new Account(), new Member { DisplayName = Phones.NewName(), DisplayNameKey = "legacy-" + Guid.NewGuid().ToString("N"), MigrationStatus = 2 }, default);
            auth = (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueAuthTokenAsync(legacy, AuthMethods.Password, default)).Token;
            account = legacy.AccountId;
        }

        await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() }).ResponseAsync,
            StatusCode.FailedPrecondition, "ErrNewMember.FAILED");
        await using var check = fixture.Server.Services.CreateAsyncScope();
        Assert.Equal(1, await check.ServiceProvider.GetRequiredService<PanDbContext>().Members.CountAsync(m => m.AccountId == account));
    }

    [Fact]
    public async Task NewMember_UnderAPasswordSignIn_IsFailedPrecondition_AndCreatesNothing_ThePhoneSignInAdds()
    {
        // Why: a password proves its member, not the phone (README "Tokens"); a member added under the phone is one more
        // profile of the phone's holder and takes one of its Pan:Members:MaxPerPhone places.
        var (auth, _) = await Phones.RegisterAsync();
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, SiblingPassword);
        var byPassword = await Phones.PasswordSignInAsync(sibling.DisplayName, SiblingPassword);
        var before = (await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = await Phones.AccessTokenAsync(auth) })).Objects.Count;
        // Me says so beforehand: can_new_child is false for that session, true for the phone's.
        Assert.False((await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(byPassword), AppId = "jkforum" })).User.CanNewChild);
        Assert.True((await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth, sibling.ObjectId), AppId = "jkforum" })).User.CanNewChild);

        await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = byPassword, DisplayName = Phones.NewName() }).ResponseAsync,
            StatusCode.FailedPrecondition, "ErrNewMember.FAILED");
        Assert.Equal(before, (await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = await Phones.AccessTokenAsync(auth) })).Objects.Count);

        await Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() });
        Assert.Equal(before + 1, (await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = await Phones.AccessTokenAsync(auth) })).Objects.Count);
    }

    [Fact]
    public async Task NewMember_RacingTheDeletionOfThePhonesLastMember_NeverLeavesALiveMemberUnderTheDeletedAccount()
    {
        var commands = new Pan.General.Member.Dangerous.Command.CommandClient(fixture.Server.Grpc);
        // Why several rounds: the two calls must overlap for the race to show; each round is one try at it.
        for (var round = 0; round < 8; round++)
        {
            var owner = await Members.TestMembers.CreateAsync(fixture.Server);
            var auth = await Members.TestMembers.AuthTokenAsync(fixture.Server, owner);
            var access = await Members.TestMembers.AccessTokenAsync(fixture.Server, auth, owner);
            string delToken;
            await using (var scope = fixture.Server.Services.CreateAsyncScope())
            {
                delToken = (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(owner.Uid, VerifyPurposes.Delete, default)).Token;
            }

            var deletion = commands.DeleteMemberAsync(new Pan.General.Member.Dangerous.CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = access, DelToken = delToken }).ResponseAsync;
            var created = Phones.StatusOf(() => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() }).ResponseAsync);
            await deletion;
            var status = await created;

            // Either the new member came first (the deletion then took only the owner and the account stays), or the
            // deletion did (the account is gone with its sessions, and NewMember is refused): never a live member
            // under a deleted account, which nobody could sign in to and whose phone is already free.
            await using var check = fixture.Server.Services.CreateAsyncScope();
            var db = check.ServiceProvider.GetRequiredService<PanDbContext>();
            var accountDeleted = await db.Accounts.Where(a => a.Id == owner.AccountId).Select(a => a.Deleted != null).SingleAsync();
            var live = await db.Members.CountAsync(m => m.AccountId == owner.AccountId && m.Deleted == null);
            Assert.Equal(accountDeleted ? (StatusCode.Unauthenticated, 0) : (StatusCode.OK, 1), (status, live));
        }
    }

    /// <summary>
    /// The phone's member suspended while a NewMember under its auth token runs (the token checked while the suspension's
    /// transaction is still open: on PostgreSQL the session still looks live then). The suspension ends that session, so
    /// NewMember waits for it and is TOKEN_INVALID, adding nothing, as after the suspension; never a member added on a
    /// session the suspension ended first. SQLite runs one writer at a time: there NewMember meets the suspension's write
    /// lock or its commit, with the same answer.
    /// </summary>
    [Fact]
    public async Task NewMember_WhileThePhonesMembersSuspensionIsUncommitted_IsTokenInvalid_AndAddsNothing()
    {
        var owner = await Members.TestMembers.CreateAsync(fixture.Server);
        var auth = await Members.TestMembers.AuthTokenAsync(fixture.Server, owner);
        Task<string?> call;
        await using (var suspension = await Admin.UncommittedSuspension.StartAsync(fixture.Server, fixture.Database, owner.Uid))
        {
            call = Task.Run(() => Errors.ReasonOfAsync(() => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() }).ResponseAsync));
            Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        Assert.Equal("ErrNewMember.TOKEN_INVALID", await call);
        await using var check = fixture.Server.Services.CreateAsyncScope();
        Assert.Equal(1, await check.ServiceProvider.GetRequiredService<PanDbContext>().Members.CountAsync(m => m.AccountId == owner.AccountId));
    }

    /// <summary>
    /// A password reset of the phone's member (ending every session of it, the auth token's among them) uncommitted while
    /// a NewMember under that token runs: as for the suspension, NewMember waits for it and is TOKEN_INVALID, adding nothing.
    /// </summary>
    [Fact]
    public async Task NewMember_WhileAResetEndingItsSessionIsUncommitted_IsTokenInvalid_AndAddsNothing()
    {
        var owner = await Members.TestMembers.CreateAsync(fixture.Server);
        var auth = await Members.TestMembers.AuthTokenAsync(fixture.Server, owner);
        Task<string?> call;
        await using (var reset = await Credentials.UncommittedPasswordChange.StartAsync(fixture.Server, fixture.Database, owner.Uid, "copper meadow 4711 lantern", keepSessionId: null))
        {
            call = Task.Run(() => Errors.ReasonOfAsync(() => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() }).ResponseAsync));
            Assert.True(await reset.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await reset.CommitAsync();
        }

        Assert.Equal("ErrNewMember.TOKEN_INVALID", await call);
        await using var check = fixture.Server.Services.CreateAsyncScope();
        Assert.Equal(1, await check.ServiceProvider.GetRequiredService<PanDbContext>().Members.CountAsync(m => m.AccountId == owner.AccountId));
    }

    [Fact]
    public async Task SwitchMember_AfterPhoneStepUp_GivesAnAuthTokenForTheOtherMember_Once()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var second = await Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() });
        var access = await Phones.AccessTokenAsync(auth);

        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "switch-member" });
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var verify = await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "switch-member", Code = code });

        var request = new SwitchMemberRequest { PanAccessToken = access, VerifyToken = verify.VerifyToken, SwitchToObjectId = second.Object.ObjectId, AppId = "jkforum" };
        var switched = await Client.SwitchMemberAsync(request);
        Assert.Equal(second.Object.ObjectId, switched.ObjectId);
        // The seed's AccessToken picks the phone's default member when object_id is empty: name the switched-to member.
        var secondAccess = await Phones.AccessTokenAsync(switched.AuthToken, switched.ObjectId);
        var me = await Client.MeAsync(new MeRequest { AccessToken = secondAccess, AppId = "jkforum" });
        Assert.Equal(second.Object.Uid, me.User.Uid);

        await Errors.ExpectAsync(() => Client.SwitchMemberAsync(request).ResponseAsync, StatusCode.PermissionDenied, "SwitchMemberResponse.ErrVerifyTokenInvalid");
    }

    /// <summary>
    /// Two nodes on one database: the step-up's code is sent through one node and checked on the other, the switch made
    /// on the first, and its verify token is then spent on both.
    /// </summary>
    [Fact]
    public async Task TwoNodes_SwitchMember_StepUpOnOne_SwitchOnTheOther_AndTheVerifyTokenIsSpentOnBoth()
    {
        await using var node = await PanServer.StartAsync(fixture.Database, fixture.NodeSettings, fixture.Server.Clock);
        var other = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var (auth, e164) = await Phones.RegisterAsync();
        var second = await other.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() });
        var access = await Phones.AccessTokenAsync(auth);

        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "switch-member" });
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var verify = await other.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "switch-member", Code = code });

        var request = new SwitchMemberRequest { PanAccessToken = access, VerifyToken = verify.VerifyToken, SwitchToObjectId = second.Object.ObjectId, AppId = "jkforum" };
        var switched = await Client.SwitchMemberAsync(request);
        var secondAccess = await new Phones(other, fixture.Inbox).AccessTokenAsync(switched.AuthToken, switched.ObjectId);
        Assert.Equal(second.Object.Uid, (await other.MeAsync(new MeRequest { AccessToken = secondAccess, AppId = "jkforum" })).User.Uid);

        foreach (var client in new[] { other, Client })
        {
            await Errors.ExpectAsync(() => client.SwitchMemberAsync(request).ResponseAsync, StatusCode.PermissionDenied, "SwitchMemberResponse.ErrVerifyTokenInvalid");
        }
    }

    [Fact]
    public async Task SwitchMember_FromAPasswordSignIn_WithItsOwnPasswordVerifyToken_IsRefused_AndTheSmsStepUpSwitches()
    {
        // A password proves its member, not the phone: the same password again (VerifyMemberByPassword) is no step-up
        // to the phone's other members. The SMS step-up proves the phone, whatever the session proved.
        var (auth, e164) = await Phones.RegisterAsync();
        var owner = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, SiblingPassword);
        var access = await Phones.AccessTokenAsync(await Phones.PasswordSignInAsync(sibling.DisplayName, SiblingPassword));

        var byPassword = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = sibling.DisplayName, Password = SiblingPassword, SessionToken = "switch-member" });
        await Errors.ExpectAsync(
            () => Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = access, VerifyToken = byPassword.VerifyToken, SwitchToObjectId = owner.ObjectId, AppId = "jkforum" }).ResponseAsync,
            StatusCode.PermissionDenied, "SwitchMemberResponse.ErrVerifyTokenInvalid");

        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "switch-member" });
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var bySms = await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "switch-member", Code = code });
        var switched = await Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = access, VerifyToken = bySms.VerifyToken, SwitchToObjectId = owner.ObjectId, AppId = "jkforum" });
        var ownerAccess = await Phones.AccessTokenAsync(switched.AuthToken, owner.ObjectId);
        Assert.Equal(owner.Uid, (await Client.MeAsync(new MeRequest { AccessToken = ownerAccess, AppId = "jkforum" })).User.Uid);
        // The SMS proved the phone: the switched session is phone-level, as after a phone sign-in.
        Assert.NotEmpty(await Phones.AccessTokenAsync(switched.AuthToken, sibling.ObjectId));
    }

    [Fact]
    public async Task SwitchMember_FromAPhoneSignIn_WithThePasswordVerifyToken_StillSwitches()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var owner = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, SiblingPassword);
        var access = await Phones.AccessTokenAsync(auth, sibling.ObjectId);

        var verify = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = sibling.DisplayName, Password = SiblingPassword, SessionToken = "switch-member" });
        var switched = await Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = access, VerifyToken = verify.VerifyToken, SwitchToObjectId = owner.ObjectId, AppId = "jkforum" });
        Assert.Equal(owner.ObjectId, switched.ObjectId);
        Assert.NotEmpty(await Phones.AccessTokenAsync(switched.AuthToken, owner.ObjectId));
    }

    [Fact]
    public async Task SwitchMember_WithTheTargetsOwnPasswordVerifyToken_OpensTheTargetOnly()
    {
        // VerifyMemberByPassword proves the password of the member it names. Naming the target proves the target as a
        // password sign-in would: the switch opens that member alone, and the token reaches no third member.
        var (auth, _) = await Phones.RegisterAsync();
        var owner = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        var first = await Phones.NewMemberWithPasswordAsync(auth, SiblingPassword);
        var second = await Phones.NewMemberWithPasswordAsync(auth, OtherSiblingPassword);
        var access = await Phones.AccessTokenAsync(await Phones.PasswordSignInAsync(first.DisplayName, SiblingPassword));
        Task<VerifyMemberByPasswordResponse> SecondsProofAsync() => Client.VerifyMemberByPasswordAsync(
            new VerifyMemberByPasswordRequest { DisplayName = second.DisplayName, Password = OtherSiblingPassword, SessionToken = "switch-member" }).ResponseAsync;

        await Errors.ExpectAsync(
            async () => await Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = access, VerifyToken = (await SecondsProofAsync()).VerifyToken, SwitchToObjectId = owner.ObjectId, AppId = "jkforum" }),
            StatusCode.PermissionDenied, "SwitchMemberResponse.ErrVerifyTokenInvalid");

        var switched = await Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = access, VerifyToken = (await SecondsProofAsync()).VerifyToken, SwitchToObjectId = second.ObjectId, AppId = "jkforum" });
        Assert.Equal(second.ObjectId, switched.ObjectId);
        var secondAccess = await Phones.AccessTokenAsync(switched.AuthToken);
        Assert.Equal(second.Uid, (await Client.MeAsync(new MeRequest { AccessToken = secondAccess, AppId = "jkforum" })).User.Uid);
        await Errors.ExpectAsync(() => Phones.AccessTokenAsync(switched.AuthToken, owner.ObjectId), StatusCode.NotFound, "ErrAccessToken.FAILED");
        Assert.Empty((await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = secondAccess })).Objects);
    }

    [Fact]
    public async Task SwitchMember_WithAPasswordVerifyTokenFetchedBeforeTheTargetChangedItsPassword_IsRefused()
    {
        // Whoever knew the target's old password fetched a switch proof with it (VerifyMemberByPassword needs no
        // session) and holds a sibling's member-bound sign-in. The target changes its password to lock that person out:
        // its sessions end, and so must every proof its old password gave, else the sibling switches in for minutes more.
        var (auth, _) = await Phones.RegisterAsync();
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, SiblingPassword);
        var target = await Phones.NewMemberWithPasswordAsync(auth, OtherSiblingPassword);
        var siblingAccess = await Phones.AccessTokenAsync(await Phones.PasswordSignInAsync(sibling.DisplayName, SiblingPassword));
        var stale = (await Client.VerifyMemberByPasswordAsync(
            new VerifyMemberByPasswordRequest { DisplayName = target.DisplayName, Password = OtherSiblingPassword, SessionToken = "switch-member" })).VerifyToken;

        const string NewPassword = "copper meadow falcon 93";
        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = await Phones.PasswordSignInAsync(target.DisplayName, OtherSiblingPassword),
            OriginalPassword = OtherSiblingPassword,
            NewPassword = NewPassword,
            ConfirmNewPassword = NewPassword,
        });

        await Errors.ExpectAsync(
            () => Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = siblingAccess, VerifyToken = stale, SwitchToObjectId = target.ObjectId, AppId = "jkforum" }).ResponseAsync,
            StatusCode.PermissionDenied, "SwitchMemberResponse.ErrVerifyTokenInvalid");

        // A proof of the new password still switches.
        var fresh = (await Client.VerifyMemberByPasswordAsync(
            new VerifyMemberByPasswordRequest { DisplayName = target.DisplayName, Password = NewPassword, SessionToken = "switch-member" })).VerifyToken;
        var switched = await Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = siblingAccess, VerifyToken = fresh, SwitchToObjectId = target.ObjectId, AppId = "jkforum" });
        Assert.Equal(target.ObjectId, switched.ObjectId);
    }

    [Fact]
    public async Task OtherMember_FromAPasswordSignIn_ShowsNoOtherMember_AndFromAPhoneSignInShowsThemAll()
    {
        // The other members' self views (phone, email: "visible only to the member") belong to the phone's holder; a
        // session that proved one member sees the phone as AccessToken shows it to that session: with no other member.
        var (auth, e164) = await Phones.RegisterAsync();
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, SiblingPassword);
        var byPassword = await Phones.AccessTokenAsync(await Phones.PasswordSignInAsync(sibling.DisplayName, SiblingPassword));

        Assert.Empty((await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = byPassword })).Objects);

        var byPhone = await Phones.AccessTokenAsync(auth, sibling.ObjectId);
        var others = (await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = byPhone })).Objects;
        Assert.Equal(e164, Assert.Single(others).Phone);
    }

    [Fact]
    public async Task VerifyPhoneCode_TriesAtADeadCode_AreRefused_AndNotCountedOnTheMember()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        var uid = (await Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" })).User.Uid;
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "switch-member" });
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var wrong = code == "000000" ? "111111" : "000000";
        VerifyPhoneCodeRequest Input(string value) => new() { PanAccessToken = access, SessionToken = "switch-member", Code = value };

        // Why the clock: past the free failures the member waits 1 s, 2 s, … between tries; 35 s outlasts every wait
        // these tries can earn, and eight of them stay inside the code's 10 minutes.
        for (var i = 0; i < 5; i++)
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
            await Errors.ExpectAsync(() => Client.VerifyPhoneCodeAsync(Input(wrong)).ResponseAsync, StatusCode.InvalidArgument, "VerifyPhoneCodeResponse.ErrCodeInvalid");
        }

        Assert.Equal(5, await FailuresAsync(uid));
        foreach (var late in new[] { wrong, code })
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
            await Errors.ExpectAsync(() => Client.VerifyPhoneCodeAsync(Input(late)).ResponseAsync, StatusCode.InvalidArgument, "VerifyPhoneCodeResponse.ErrCodeInvalid");
        }

        Assert.Equal(5, await FailuresAsync(uid));
    }

    private async Task<int> FailuresAsync(long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<FailureCounter>().FailuresAsync(uid, default);
    }

    [Fact]
    public async Task SwitchMember_MissingObjectOrForeignMember_AreRefused()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var (strangerAuth, _) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        var stranger = await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(strangerAuth), AppId = "jkforum" });

        await Errors.ExpectAsync(
            () => Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = access, VerifyToken = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "SwitchMemberResponse.ErrObjectIDRequired");
        await Errors.ExpectAsync(
            () => Client.SwitchMemberAsync(new SwitchMemberRequest { PanAccessToken = access, VerifyToken = "x", SwitchToObjectId = stranger.User.ObjectId }).ResponseAsync,
            StatusCode.NotFound, "SwitchMemberResponse.ErrFailed");
    }

    [Fact]
    public async Task PhoneStepUp_BadTokenOrNoPhone_IsFailed_AndASecondSendAtOnceIsReachSendLimit()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        var phoneless = await Phones.PhonelessAccessTokenAsync(fixture.Server, Phones.NewName());

        await Errors.ExpectAsync(() => Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = "bad" }).ResponseAsync,
            StatusCode.Unauthenticated, "SendPhoneVerificationResponse.ErrFailed");
        await Errors.ExpectAsync(() => Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = phoneless }).ResponseAsync,
            StatusCode.FailedPrecondition, "SendPhoneVerificationResponse.ErrFailed");
        await Errors.ExpectAsync(() => Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = "bad", Code = "123456" }).ResponseAsync,
            StatusCode.Unauthenticated, "VerifyPhoneCodeResponse.ErrFailed");

        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access });
        var again = await Errors.ExpectAsync(() => Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access }).ResponseAsync,
            StatusCode.ResourceExhausted, "SendPhoneVerificationResponse.ErrReachSendLimit");
        Assert.True(int.Parse(again.Info().Metadata["retry_after_seconds"], System.Globalization.CultureInfo.InvariantCulture) > 0);
        await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        Assert.Equal(2, fixture.Inbox.MessagesTo(e164).Count);
    }

    [Fact]
    public async Task VerifyPhoneCode_WrongCodeOrOperation_IsCodeInvalid()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        await Errors.ExpectAsync(
            () => Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, Code = "123456" }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyPhoneCodeResponse.ErrCodeInvalid");
        var bad = await Assert.ThrowsAsync<RpcException>(() =>
            Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "launch-rockets" }).ResponseAsync);
        Assert.Equal("session_token", bad.BadRequest()!.FieldViolations[0].Field);
    }
}

public sealed class MemberProfileBehaviour_Sqlite(SqlitePhoneFlowFixture f) : MemberProfileBehaviour<SqlitePhoneFlowFixture>(f);

public sealed class MemberProfileBehaviour_Postgres(PostgresPhoneFlowFixture f) : MemberProfileBehaviour<PostgresPhoneFlowFixture>(f);
