using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.AddressBooks;
using Pan.Data.Audit;
using Pan.Data.Credentials;
using Pan.Data.Email;
using Pan.Data.Outbox;
using Pan.Data.Passkeys;
using Pan.Data.Sms;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.General.Member.Dangerous;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using SkiaSharp;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;

namespace Pan.Tests.Deletion;

/// <summary>DeleteMember and DeleteAccount: the SMS step-up sequence, what is erased and kept, revocation on every node, errors.</summary>
public abstract class DeletionBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ExtrasFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    private Command.CommandClient Commands => new(Server.Grpc);

    private PhoneFlow Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task DeleteAccount_AfterAnSmsStepUp_ErasesEverything_RevokesOnEveryNode_AndFreesThePhone()
    {
        var name = PhoneFlow.NewName();
        var (auth, e164) = await Phones.RegisterAsync(name);
        var access = await Phones.AccessTokenAsync(auth);
        var me = (await Client.MeAsync(new MeRequest { AccessToken = access })).User;
        await Client.SaveAddressBookAsync(new SaveAddressBookRequest { AccessToken = access, AddressBook = new() { FullName = "A", Address = "B" } });
        var avatar = (await Client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = access, Avatar = ByteString.CopyFrom(Png()) })).Avatar;
        await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = access });

        // The documented sequence: SendPhoneVerification and VerifyPhoneCode with session_token "delete", then the command.
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "delete" });
        var code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2);
        var verify = await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "delete", Code = code });
        await Commands.DeleteAccountAsync(new CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = access, DelToken = verify.VerifyToken });

        await using (var node = await fixture.StartNodeAsync())
        {
            var other = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
            await Errors.ExpectAsync(() => other.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access }).ResponseAsync,
                StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
            await Errors.ExpectAsync(() => other.AccessTokenAsync(new AccessTokenRequest { AuthToken = auth, AppId = "jkforum" }).ResponseAsync,
                StatusCode.Unauthenticated, "ErrAccessToken.INVALID");
        }

        var uid = me.Uid;
        var tombstone = await TestMembers.WithDbAsync(Server, db => db.Members.Include(m => m.Account).AsNoTracking().SingleAsync(m => m.Uid == uid));
        Assert.NotNull(tombstone.Deleted);
        Assert.Equal((me.ObjectId, me.HashUid), (tombstone.ObjectId.ToString("D"), tombstone.HashUid));
        Assert.All(new[] { tombstone.DisplayName, tombstone.DisplayNameKey, tombstone.Email, tombstone.AvatarKey, tombstone.ActivateIp }, Assert.Null);
        Assert.Null(tombstone.Account!.PhoneE164);
        Assert.NotNull(tombstone.Account.Deleted);
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<AddressBook>().CountAsync(a => a.Uid == uid)));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<Pan.Data.Passport.MemberPass>().CountAsync(p => p.Uid == uid)));
        Assert.Equal(HttpStatusCode.NotFound, (await Server.Http.GetAsync(new Uri(avatar).AbsolutePath)).StatusCode);
        var audit = await AuditAsync($"account:{tombstone.AccountId}");
        Assert.Contains(audit, e => e is { Action: "account.delete", Outcome: "ok" } && e.Actor == $"member:{uid}");
        Assert.Contains(await AuditAsync($"member:{uid}"), e => e.Action == "member.delete" && e.Outcome.StartsWith("ok", StringComparison.Ordinal));

        // The phone and the display name are free again.
        var start = await Phones.StartRegisterAsync("0" + e164[4..]);
        var again = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 3);
        await Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = again });
        var done = await Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = name });
        Assert.Equal(RegPhase.Done, done.NextPhase);
        var reborn = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(done.PhaseDoneAuthToken) })).User;
        Assert.NotEqual(uid, reborn.Uid);
        Assert.Equal(e164, reborn.Phone);
    }

    [Fact]
    public async Task DeleteMember_ErasesItsCredentials_EmailCodes_AndQueuedMessages()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        var uid = member.Uid;
        var now = Server.Clock.GetUtcNow();
        await TestMembers.WithDbAsync(Server, async db =>
        {
            db.Add(new MemberCredential { Uid = uid, PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", SecurityQuestion = "First pet?", SecurityAnswerHash = "$argon2id$answer" });
            db.Add(new LoginFailure { Uid = uid, ConsecutiveFailures = 3, LastFailure = now });
            db.Add(new EmailCode { Uid = uid, Purpose = "verify", AddressKey = "erased@example.com", CodeHash = [1], LinkHash = [2], Created = now, Expires = now.AddMinutes(10) });
            db.Add(new MailOutboxEntry { Kind = "reset", Uid = uid, Payload = "{\"to\":\"erased@example.com\"}", Created = now, Expires = now.AddMinutes(10), NextAttempt = now.AddHours(1) });
            db.Add(new SmsOutboxEntry { Kind = "reset", Uid = uid, Payload = "{\"to\":\"+886912345678\"}", Created = now, Expires = now.AddMinutes(10), NextAttempt = now.AddHours(1) });
            db.Add(new MemberPasskey { Uid = uid, CredentialId = BitConverter.GetBytes(uid), PublicKey = [1, 2, 3], Name = "Phone", Created = now });
            db.Add(new PasskeyUser { Uid = uid, UserHandle = [.. BitConverter.GetBytes(uid), 9] });
            db.Add(new PasskeyChallenge { Hash = System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(uid)), Kind = PasskeyChallenge.Registration, Uid = uid, OptionsJson = "{}", Expires = now.AddMinutes(5) });
            return await db.SaveChangesAsync();
        });

        await Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = token, DelToken = await DelTokenAsync(uid) });

        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<MemberCredential>().CountAsync(c => c.Uid == uid)));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<LoginFailure>().CountAsync(f => f.Uid == uid)));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<EmailCode>().CountAsync(c => c.Uid == uid)));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<MemberPasskey>().CountAsync(p => p.Uid == uid)));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<PasskeyUser>().CountAsync(u => u.Uid == uid)));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<PasskeyChallenge>().CountAsync(c => c.Uid == uid)));
        var mail = await TestMembers.WithDbAsync(Server, db => db.Set<MailOutboxEntry>().AsNoTracking().SingleAsync(e => e.Uid == uid));
        var sms = await TestMembers.WithDbAsync(Server, db => db.Set<SmsOutboxEntry>().AsNoTracking().SingleAsync(e => e.Uid == uid));
        Assert.All(new OutboxEntry[] { mail, sms }, e =>
        {
            Assert.Equal(OutboxState.Abandoned, e.State);
            Assert.Null(e.Payload);
        });
    }

    /// <summary>
    /// None of the member's sign-in rows outlives it: its auth sessions, its access tokens (also one issued for it from
    /// the sibling's auth token), its login tokens and its verify tokens (the del_token it spent and one it did not)
    /// go in the deletion's transaction. The sibling's own session and access token stay, and work.
    /// </summary>
    [Fact]
    public async Task DeleteMember_LeavesNoSessionOrTokenOfTheMember_AndKeepsTheSiblings()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var ownerToken = await TestMembers.AccessTokenAsync(Server, owner);
        var siblingAuth = await TestMembers.AuthTokenAsync(Server, sibling);
        var siblingToken = await TestMembers.AccessTokenAsync(Server, siblingAuth, sibling);
        await TestMembers.AccessTokenAsync(Server, siblingAuth, owner);
        await LoginTokenAsync(ownerToken);
        await VerifyTokenAsync(owner.Uid, VerifyPurposes.SwitchMember);
        Assert.Equal((1, 2, 1, 1), await SignInRowsAsync(owner.Uid));

        await Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = ownerToken, DelToken = await DelTokenAsync(owner.Uid) });

        Assert.Equal((0, 0, 0, 0), await SignInRowsAsync(owner.Uid));
        Assert.Equal(sibling.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = siblingToken })).Info.Uid);
        Assert.Equal((1, 1), await TestMembers.WithDbAsync(Server, async db => (
            await db.Set<AuthSession>().CountAsync(s => s.Uid == sibling.Uid), await db.Set<StoredAccessToken>().CountAsync(t => t.Uid == sibling.Uid))));
    }

    /// <summary>
    /// A phoneless member signed in (a session of its own account, an access token under it) and then moved under a
    /// phone (ValidateNewMember, which revokes that session but keeps its rows): deleting it leaves no access token
    /// naming it, also none issued under its old account's session (the eraser finds the access tokens through the
    /// sessions of the member's current account; those of the old one go with the member's own sessions).
    /// </summary>
    [Fact]
    public async Task DeleteMember_OfAMemberMovedUnderAPhone_LeavesNoAccessTokenFromItsOldAccount()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var oldAccess = await TestMembers.AccessTokenAsync(Server, joining);
        await Client.ValidateNewMemberAsync(new ValidateNewMemberRequest
        {
            CurrentPhoneAuthToken = await TestMembers.AuthTokenAsync(Server, owner),
            NewMemberAccessToken = oldAccess,
            VerifyToken = await VerifyTokenAsync(joining.Uid, VerifyPurposes.UpdateCredential),
        });
        var moved = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == joining.Uid));
        Assert.Equal(owner.AccountId, moved.AccountId);
        var access = await TestMembers.AccessTokenAsync(Server, moved);
        Assert.Equal(1, await TestMembers.WithDbAsync(Server, db => db.Set<StoredAccessToken>()
            .CountAsync(t => t.Uid == joining.Uid && t.Session!.AccountId == joining.AccountId && t.Session.Revoked != null)));

        await Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = access, DelToken = await DelTokenAsync(joining.Uid) });

        Assert.Equal((0, 0, 0, 0), await SignInRowsAsync(joining.Uid));
    }

    /// <summary>As for one member: none of the sign-in rows of any member under the phone outlives DeleteAccount.</summary>
    [Fact]
    public async Task DeleteAccount_LeavesNoSessionOrTokenOfItsMembers()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var second = await TestMembers.AddToPhoneAsync(Server, owner);
        var ownerToken = await TestMembers.AccessTokenAsync(Server, owner);
        var secondToken = await TestMembers.AccessTokenAsync(Server, second);
        await LoginTokenAsync(ownerToken);
        await LoginTokenAsync(secondToken);
        await VerifyTokenAsync(second.Uid, VerifyPurposes.SwitchMember);

        await Commands.DeleteAccountAsync(new CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = ownerToken, DelToken = await DelTokenAsync(owner.Uid) });

        Assert.Equal((0, 0, 0, 0), await SignInRowsAsync(owner.Uid));
        Assert.Equal((0, 0, 0, 0), await SignInRowsAsync(second.Uid));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().CountAsync(s => s.AccountId == owner.AccountId)));
    }

    /// <summary>
    /// A DeleteAccount whose own member's deletion commits while it runs (its access token was checked just before):
    /// that deletion took the member's del_token with it, so this one has nothing left to prove the phone with. It deletes
    /// nothing — the phone's other member stays — and is refused (PERMISSION_DENIED), audited as such. On SQLite the
    /// call may instead check its access token after that commit (UNAUTHENTICATED); the other member stays either way.
    /// </summary>
    [Fact]
    public async Task DeleteAccount_WhileItsOwnMembersDeletionCommits_DeletesNothingMore()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var ownerToken = await TestMembers.AccessTokenAsync(Server, owner);
        var delToken = await DelTokenAsync(owner.Uid);

        Task<StatusCode> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(Server, fixture.Database, owner.Uid))
        {
            call = Task.Run(() => PhoneFlow.StatusOf(() =>
                Commands.DeleteAccountAsync(new CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = ownerToken, DelToken = delToken }).ResponseAsync));
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        var status = await call;
        Assert.Contains(status, fixture.Database.Provider == "postgres" ? new[] { StatusCode.PermissionDenied } : new[] { StatusCode.PermissionDenied, StatusCode.Unauthenticated });
        Assert.Null(await TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.Uid == sibling.Uid).Select(m => m.Deleted).SingleAsync()));
        if (status == StatusCode.PermissionDenied)
        {
            Assert.Contains(await AuditAsync($"account:{owner.AccountId}"), e => e is { Action: "account.delete", Outcome: "denied: the member was deleted meanwhile" });
        }
    }

    // A step-up (VerifyPhoneCode, VerifyMemberByPassword) racing the member's deletion: either the deletion commits first
    // and the step-up answers as for a gone member, issuing nothing, or the step-up commits first and the deletion
    // erases its verify token. No verify token of a deleted member is left behind.

    [Fact]
    public async Task VerifyPhoneCode_WhileTheMembersDeletionIsUncommitted_AnswersLikeAGoneMember_AndIssuesNoVerifyToken()
    {
        var (uid, access, code) = await PhoneStepUpAsync();

        Task<VerifyPhoneCodeResponse> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(Server, fixture.Database, uid))
        {
            call = Task.Run(() => Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "delete", Code = code }).ResponseAsync);
            await UntilBlockedAsync(deletion, call);
            await deletion.CommitAsync();
        }

        // What VerifyPhoneCode answers once the member is deleted (its access token went with it).
        await Errors.ExpectAsync(() => call, StatusCode.Unauthenticated, "VerifyPhoneCodeResponse.ErrFailed");
        Assert.Equal((0, 0, 0, 0), await SignInRowsAsync(uid));
    }

    /// <summary>
    /// The other order: the step-up has accepted the code and is held (on PostgreSQL by a lock on the member's failure
    /// streak, which it clears just before it stores the token) while the deletion runs up to that streak too. Both then
    /// go on, the step-up first: its token must be stored before the deletion erases the member's verify tokens, not
    /// after. SQLite runs one writer at a time, so there the two run one after the other.
    /// </summary>
    [Fact]
    public async Task VerifyPhoneCode_WhenTheMembersDeletionRunsBeforeItsTokenIsStored_LeavesNoVerifyTokenOfTheMember()
    {
        var (uid, access, code) = await PhoneStepUpAsync();
        VerifyPhoneCodeRequest Input(string value) => new() { PanAccessToken = access, SessionToken = "delete", Code = value };
        // One wrong try starts the failure streak a right code then clears.
        await Errors.ExpectAsync(() => Client.VerifyPhoneCodeAsync(Input(code == "000000" ? "111111" : "000000")).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyPhoneCodeResponse.ErrCodeInvalid");

        Task<StatusCode> call;
        Task<UncommittedDeletion>? deleting = null;
        await using (await DatabaseLock.HoldRowsAsync(fixture.Database, "login_failures", $"uid = {uid}"))
        {
            call = Task.Run(() => PhoneFlow.StatusOf(() => Client.VerifyPhoneCodeAsync(Input(code)).ResponseAsync));
            if (fixture.Database.Provider == "postgres")
            {
                Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, call), "the step-up did not wait for the failure streak");
                deleting = Task.Run(() => UncommittedDeletion.StartAsync(Server, fixture.Database, uid));
                Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, deleting), "the deletion did not wait");
            }
        }

        var status = await call;
        await using (var deletion = await (deleting ?? UncommittedDeletion.StartAsync(Server, fixture.Database, uid)))
        {
            await deletion.CommitAsync();
        }

        // The member was live when the step-up ran, so it got its token; the deletion then took it away.
        Assert.Equal(StatusCode.OK, status);
        Assert.Equal((0, 0, 0, 0), await SignInRowsAsync(uid));
    }

    [Fact]
    public async Task VerifyMemberByPassword_WhileTheMembersDeletionIsUncommitted_AnswersLikeAnUnknownMember_AndIssuesNoVerifyToken()
    {
        // The step-up reads the member and checks its password while the deletion's transaction is still open (on
        // PostgreSQL it still looks live; on SQLite it reads what was committed before): the token it then issues must
        // wait for the deletion and find no live member.
        const string password = "tangerine orbit 58";
        var (auth, _) = await Phones.RegisterAsync();
        var member = await Phones.NewMemberWithPasswordAsync(auth, password);

        Task<VerifyMemberByPasswordResponse> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Client.VerifyMemberByPasswordAsync(
                new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = password, SessionToken = "delete" }).ResponseAsync);
            await UntilBlockedAsync(deletion, call);
            await deletion.CommitAsync();
        }

        // What VerifyMemberByPassword answers for a member it does not know.
        await Errors.ExpectAsync(() => call, StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrAuthFailed");
        Assert.Equal((0, 0, 0, 0), await SignInRowsAsync(member.Uid));
    }

    [Fact]
    public async Task DeleteMember_OfOneOfTwo_LeavesTheOtherWorking_AndMovesTheDefault()
    {
        var owner = await TestMembers.CreateAsync(Server, m => m.Email = TestMembers.UniqueName("e") + "@example.com");
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var ownerToken = await TestMembers.AccessTokenAsync(Server, owner);
        var siblingAuth = await TestMembers.AuthTokenAsync(Server, sibling);
        var siblingToken = await TestMembers.AccessTokenAsync(Server, siblingAuth, sibling);

        await Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = ownerToken, DelToken = await DelTokenAsync(owner.Uid) });

        await Errors.ExpectAsync(() => Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = ownerToken }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
        Assert.Equal(sibling.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = siblingToken })).Info.Uid);
        Assert.Empty((await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = siblingToken })).Objects);
        // The phone's default member is now the sibling: an access token without object_id is theirs.
        var byDefault = await TestMembers.AccessTokenAsync(Server, siblingAuth, member: null);
        Assert.Equal(sibling.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = byDefault })).Info.Uid);

        var account = await TestMembers.WithDbAsync(Server, db => db.Accounts.AsNoTracking().SingleAsync(a => a.Id == owner.AccountId));
        Assert.Null(account.Deleted);
        Assert.NotNull(account.PhoneE164);
        var gone = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == owner.Uid));
        Assert.Null(gone.Email);
        Assert.Null(gone.EmailKey);
        Assert.Contains(await AuditAsync($"member:{owner.Uid}"), e => e is { Action: "member.delete", Outcome: "ok" });
        Assert.Empty(await AuditAsync($"account:{owner.AccountId}"));
    }

    [Fact]
    public async Task DeleteMember_OfThePhonesLastMember_DeletesTheAccountToo()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);

        await Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = token, DelToken = await DelTokenAsync(member.Uid) });

        var account = await TestMembers.WithDbAsync(Server, db => db.Accounts.AsNoTracking().SingleAsync(a => a.Id == member.AccountId));
        Assert.Null(account.PhoneE164);
        Assert.Null(account.DefaultMemberUid);
        Assert.NotNull(account.Deleted);
        Assert.Contains(await AuditAsync($"account:{member.AccountId}"), e => e is { Action: "account.delete", Outcome: "ok: its last member was deleted" });
    }

    [Fact]
    public async Task DeleteAccount_DeletesEveryMemberUnderThePhone()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var second = await TestMembers.AddToPhoneAsync(Server, owner);
        var third = await TestMembers.AddToPhoneAsync(Server, owner);
        var thirdToken = await TestMembers.AccessTokenAsync(Server, third);
        var token = await TestMembers.AccessTokenAsync(Server, second);

        await Commands.DeleteAccountAsync(new CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = token, DelToken = await DelTokenAsync(second.Uid) });

        var members = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().Where(m => m.AccountId == owner.AccountId).ToListAsync());
        Assert.Equal(3, members.Count);
        Assert.All(members, m => Assert.True(m.Deleted is not null && m.DisplayName is null));
        await Errors.ExpectAsync(() => Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = thirdToken }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
    }

    [Fact]
    public async Task DeleteAccount_FromAPasswordSignIn_NeedsTheSmsStepUp_WhileAPasswordDelTokenDeletesTheMemberItself()
    {
        // A password proves its member, not the phone: with it alone the member may delete itself, not the phone's other
        // members (DeleteAccount). The SMS step-up proves the phone.
        const string password = "tangerine orbit 58";
        var (auth, e164) = await Phones.RegisterAsync();
        var ownerAccess = await Phones.AccessTokenAsync(auth);
        var sibling = await Phones.NewMemberWithPasswordAsync(auth, password);
        var access = await Phones.AccessTokenAsync(await Phones.PasswordSignInAsync(sibling.DisplayName, password));
        Task<VerifyMemberByPasswordResponse> ProofAsync() => Client.VerifyMemberByPasswordAsync(
            new VerifyMemberByPasswordRequest { DisplayName = sibling.DisplayName, Password = password, SessionToken = "delete" }).ResponseAsync;

        await Errors.ExpectAsync(
            async () => await Commands.DeleteAccountAsync(new CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = access, DelToken = (await ProofAsync()).VerifyToken }),
            StatusCode.PermissionDenied, "CmdDeleteAccountResponse.Error__Failed");
        Assert.NotNull((await Client.MeAsync(new MeRequest { AccessToken = ownerAccess })).User);

        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "delete" });
        var bySms = await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "delete", Code = await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2) });
        var second = await Phones.NewMemberWithPasswordAsync(auth, password);
        var secondAccess = await Phones.AccessTokenAsync(await Phones.PasswordSignInAsync(second.DisplayName, password));
        await Commands.DeleteMemberAsync(new CmdDeleteMemberRequest
        {
            AppId = "jkforum", PanAccessToken = secondAccess,
            DelToken = (await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = second.DisplayName, Password = password, SessionToken = "delete" })).VerifyToken,
        });
        Assert.True(await TestMembers.WithDbAsync(Server, db => db.Members.AnyAsync(m => m.Uid == second.Uid && m.Deleted != null)));

        await Commands.DeleteAccountAsync(new CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = access, DelToken = bySms.VerifyToken });
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = ownerAccess }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
    }

    [Fact]
    public async Task Deletion_IsRefused_WithoutAValidDelToken_AndAudited()
    {
        var member = await TestMembers.CreateAsync(Server);
        var other = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        string[] refused =
        [
            "not-a-token",
            await VerifyTokenAsync(member.Uid, VerifyPurposes.SwitchMember),
            await DelTokenAsync(other.Uid),
        ];
        foreach (var delToken in refused)
        {
            await Errors.ExpectAsync(
                () => Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = token, DelToken = delToken }).ResponseAsync,
                StatusCode.PermissionDenied, "CmdDeleteMemberResponse.Error__Failed");
            await Errors.ExpectAsync(
                () => Commands.DeleteAccountAsync(new CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = token, DelToken = delToken }).ResponseAsync,
                StatusCode.PermissionDenied, "CmdDeleteAccountResponse.Error__Failed");
        }

        var expired = await DelTokenAsync(member.Uid);
        Server.Clock.Advance(TimeSpan.FromHours(1));
        token = await TestMembers.AccessTokenAsync(Server, member);
        await Errors.ExpectAsync(
            () => Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = token, DelToken = expired }).ResponseAsync,
            StatusCode.PermissionDenied, "CmdDeleteMemberResponse.Error__Failed");

        Assert.Equal(member.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = token })).Info.Uid);
        Assert.Equal(4, (await AuditAsync($"member:{member.Uid}")).Count(e => e.Outcome.StartsWith("denied", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Deletion_BadRequests_AreRefusedWithTheRightStatus()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        var delToken = await DelTokenAsync(member.Uid);

        var app = await Errors.ExpectAsync(() => Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "nosuchapp", PanAccessToken = token, DelToken = delToken }).ResponseAsync,
            StatusCode.InvalidArgument, "CmdDeleteMemberResponse.Error__Failed");
        Assert.Equal("app_id", Assert.Single(app.BadRequest()!.FieldViolations).Field);
        var del = await Errors.ExpectAsync(() => Commands.DeleteAccountAsync(new CmdDeleteAccountRequest { AppId = "jkforum", PanAccessToken = token }).ResponseAsync,
            StatusCode.InvalidArgument, "CmdDeleteAccountResponse.Error__Failed");
        Assert.Equal("del_token", Assert.Single(del.BadRequest()!.FieldViolations).Field);
        await Errors.ExpectAsync(() => Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = "nope", DelToken = delToken }).ResponseAsync,
            StatusCode.Unauthenticated, "CmdDeleteMemberResponse.Error__Failed");
        // The token was issued to jkforum; another app cannot use it.
        await Errors.ExpectAsync(() => Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "avplus", PanAccessToken = token, DelToken = delToken }).ResponseAsync,
            StatusCode.Unauthenticated, "CmdDeleteMemberResponse.Error__Failed");

        // None of these used up the del_token.
        await Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = token, DelToken = delToken });
        // Repeating: the tokens are revoked and the del_token used, so the caller can no longer prove who they are.
        await Errors.ExpectAsync(() => Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = token, DelToken = delToken }).ResponseAsync,
            StatusCode.Unauthenticated, "CmdDeleteMemberResponse.Error__Failed");
    }

    [Fact]
    public async Task ConcurrentDeletions_OfOneMember_DeleteItOnce()
    {
        var member = await TestMembers.CreateAsync(Server);
        await TestMembers.AddToPhoneAsync(Server, member);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        var delTokens = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            delTokens.Add(await DelTokenAsync(member.Uid));
        }

        var results = await Task.WhenAll(delTokens.Select(d => PhoneFlow.StatusOf(() =>
            Commands.DeleteMemberAsync(new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = token, DelToken = d }).ResponseAsync)));

        Assert.Contains(StatusCode.OK, results);
        Assert.All(results, r => Assert.True(r is StatusCode.OK or StatusCode.Unauthenticated, $"unexpected {r}"));
        Assert.Single(await AuditAsync($"member:{member.Uid}"), e => e is { Action: "member.delete", Outcome: "ok" });
    }

    /// <summary>A member signed in by phone that asked for a <c>delete</c> SMS step-up: its uid, access token and the code.</summary>
    private async Task<(long Uid, string Access, string Code)> PhoneStepUpAsync()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        var uid = (await Client.MeAsync(new MeRequest { AccessToken = access })).User.Uid;
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "delete" });
        return (uid, access, await PhoneFlow.NthCodeAsync(fixture.Inbox, e164, 2));
    }

    /// <summary>
    /// Returns once <paramref name="call"/> waits for <paramref name="deletion"/> (PostgreSQL) or has ended. SQLite shows
    /// no waiting statement: there the call is given time to read the member and reach its first write, which waits for
    /// the deletion's write lock (within the busy timeout).
    /// </summary>
    private async Task UntilBlockedAsync(UncommittedDeletion deletion, Task call)
    {
        if (!await deletion.WaitUntilBlockingAsync(call) && fixture.Database.Provider != "postgres")
        {
            await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(1.5)));
        }
    }

    /// <summary>The member's (auth sessions, access tokens, login tokens, verify tokens), in rows.</summary>
    /// <summary>A member with no phone (imported or guest), alone under an account of its own.</summary>
    private async Task<Pan.Data.Members.Member> PhonelessMemberAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var name = TestMembers.UniqueName();
        var member = new Pan.Data.Members.Member { DisplayName = name, DisplayNameKey = Pan.Server.DisplayNames.DisplayNameRules.Key(name), IsOwner = true, MigrationStatus = 1 };
        return await scope.ServiceProvider.GetRequiredService<Pan.Server.Members.MemberCreator>().CreateAsync(new Pan.Data.Accounts.Account(), member, default);
    }

    private Task<(int Sessions, int AccessTokens, int LoginTokens, int VerifyTokens)> SignInRowsAsync(long uid) =>
        TestMembers.WithDbAsync(Server, async db => (
            await db.Set<AuthSession>().CountAsync(s => s.Uid == uid),
            await db.Set<StoredAccessToken>().CountAsync(t => t.Uid == uid),
            await db.Set<Pan.Data.HandOff.StoredLoginToken>().CountAsync(t => t.Uid == uid),
            await db.Set<StoredVerifyToken>().CountAsync(t => t.Uid == uid)));

    /// <summary>A hand-off login token made with <paramref name="accessToken"/> (as MakeLoginToken does).</summary>
    private async Task LoginTokenAsync(string accessToken)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var member = await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAccessTokenAsync(accessToken, default);
        await scope.ServiceProvider.GetRequiredService<Pan.Server.HandOff.LoginTokens>().MakeAsync("jkforum", "https://app.example.test/in", member!, default);
    }

    private async Task<string> DelTokenAsync(long uid) => await VerifyTokenAsync(uid, VerifyPurposes.Delete);

    private async Task<string> VerifyTokenAsync(long uid, string purpose)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(uid, purpose, default)).Token;
    }

    private Task<List<AuditEntry>> AuditAsync(string target) =>
        TestMembers.WithDbAsync(Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == target).ToListAsync());

    private static byte[] Png()
    {
        using var bitmap = new SKBitmap(120, 90);
        bitmap.Erase(SKColors.Teal);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}

public sealed class DeletionBehaviour_Sqlite(SqliteExtrasFixture f) : DeletionBehaviour<SqliteExtrasFixture>(f);

public sealed class DeletionBehaviour_Postgres(PostgresExtrasFixture f) : DeletionBehaviour<PostgresExtrasFixture>(f);
