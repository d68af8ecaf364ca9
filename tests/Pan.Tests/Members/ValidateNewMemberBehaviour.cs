using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Server.DisplayNames;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Members;

/// <summary>
/// ValidateNewMember: a member without a phone (imported or guest) joins the phone of current_phone_auth_token, its
/// old sessions end, and it is listed under the phone; every ErrValidateNewMember code the RPC raises.
/// </summary>
public abstract class ValidateNewMemberBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Fact]
    public async Task Chain_AMemberMovedUnderTheCallersPhoneWithItsAccessTokenAlone_IsRefused_SoThatPhoneNeverReachesIt()
    {
        // A phoneless member, and an app that holds only its access token and a phone of its own, signed in by SMS.
        var callers = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var joiningAccess = await TestMembers.AccessTokenAsync(Server, joining);
        var callersAuth = await TestMembers.AuthTokenAsync(Server, callers);

        await Errors.ExpectAsync(
            () => Client.ValidateNewMemberAsync(new ValidateNewMemberRequest { CurrentPhoneAuthToken = callersAuth, NewMemberAccessToken = joiningAccess }).ResponseAsync,
            StatusCode.PermissionDenied, "ErrValidateNewMember.FAILED");

        // The member stays where it was, with its sessions; the caller's phone does not list it.
        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
        Assert.Equal(joining.Uid, (await Client.MeAsync(new MeRequest { AccessToken = joiningAccess })).User.Uid);
        var others = await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = await TestMembers.AccessTokenAsync(Server, callers) });
        Assert.DoesNotContain(joining.ObjectId.ToString("D"), others.Objects.Select(o => o.ObjectId));
    }

    [Fact]
    public async Task ValidateNewMember_WithTheJoiningMembersPasswordProof_MovesIt_AndSpendsTheToken()
    {
        // An imported member with a password and no phone proves itself by its password.
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        const string Password = "tangerine orbit 58";
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<Pan.Server.Credentials.CredentialStore>().SetPasswordAsync(joining.Uid, Password, null, default);
        }

        joining = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == joining.Uid));
        var proof = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = joining.DisplayName, Password = Password, SessionToken = "update-credential" });
        var request = await RequestAsync(owner, joining);
        request.VerifyToken = proof.VerifyToken;

        await Client.ValidateNewMemberAsync(request);

        Assert.Equal(owner.AccountId, await AccountOfAsync(joining.Uid));
        Assert.False(await IsLiveAsync(proof.VerifyToken, joining.Uid));
    }

    [Fact]
    public async Task ValidateNewMember_WithoutTheJoiningMembersValidToken_IsPermissionDeniedFailed_MovesNothing_AndSpendsNothing()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var other = await PhonelessMemberAsync();
        var spent = await ProofAsync(joining);
        Assert.True(await UseTokensAsync(t => t.ConsumeVerifyTokenAsync(spent, joining.Uid, VerifyPurposes.UpdateCredential, default)));
        var othersProof = await ProofAsync(other);
        var request = await RequestAsync(owner, joining);
        var proof = request.VerifyToken;

        foreach (var bad in new[]
        {
            string.Empty,
            "not-a-token",
            spent,
            othersProof,
            await Foundation.HalfWrittenChecks.VerifyTokenAsync(Server, joining.Uid, VerifyPurposes.SwitchMember),
            await Foundation.HalfWrittenChecks.VerifyTokenAsync(Server, joining.Uid, VerifyPurposes.Delete),
            // The phone holder's own proof is no proof of the joining member.
            await Foundation.HalfWrittenChecks.VerifyTokenAsync(Server, owner.Uid, VerifyPurposes.UpdateCredential),
        })
        {
            request.VerifyToken = bad;
            await Errors.ExpectAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync, StatusCode.PermissionDenied, "ErrValidateNewMember.FAILED");
        }

        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
        Assert.True(await IsLiveAsync(othersProof, other.Uid));

        // A move refused for want of room spends nothing either: once there is room the same token moves the member.
        var full = new List<Member>();
        for (var i = 1; i < 5; i++)
        {
            full.Add(await TestMembers.AddToPhoneAsync(Server, owner));
        }

        request.VerifyToken = proof;
        await Errors.ExpectAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync, StatusCode.ResourceExhausted, "ErrValidateNewMember.MAXIMUM_MEMBER");
        Assert.True(await IsLiveAsync(proof, joining.Uid));
        await new Pan.General.Member.Dangerous.Command.CommandClient(Server.Grpc).DeleteMemberAsync(new Pan.General.Member.Dangerous.CmdDeleteMemberRequest
        {
            AppId = "jkforum", PanAccessToken = await TestMembers.AccessTokenAsync(Server, full[0]),
            DelToken = await Foundation.HalfWrittenChecks.VerifyTokenAsync(Server, full[0].Uid, VerifyPurposes.Delete),
        });
        await Client.ValidateNewMemberAsync(request);
        Assert.Equal(owner.AccountId, await AccountOfAsync(joining.Uid));
        Assert.False(await IsLiveAsync(proof, joining.Uid));
    }

    [Fact]
    public async Task ValidateNewMember_MovesThePhonelessMemberUnderThePhone_EndsItsSessions_AndListsIt()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var joiningAccess = await TestMembers.AccessTokenAsync(Server, joining);

        var moved = await Client.ValidateNewMemberAsync(new ValidateNewMemberRequest
        {
            CurrentPhoneAuthToken = await TestMembers.AuthTokenAsync(Server, owner),
            NewMemberAccessToken = joiningAccess,
            VerifyToken = await ProofAsync(joining),
        });

        Assert.Equal((joining.ObjectId.ToString("D"), joining.DisplayName, false), (moved.Object.ObjectId, moved.Object.DisplayName, moved.Object.IsOwner));
        var stored = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == joining.Uid));
        Assert.Equal((owner.AccountId, false), (stored.AccountId, stored.IsOwner));
        Assert.True(await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().Where(s => s.Uid == joining.Uid).AllAsync(s => s.Revoked != null)));
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = joiningAccess }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");

        var others = await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = await TestMembers.AccessTokenAsync(Server, owner) });
        Assert.Contains(joining.ObjectId.ToString("D"), others.Objects.Select(o => o.ObjectId));
        var rejoined = await Client.MeAsync(new MeRequest { AccessToken = await TestMembers.AccessTokenAsync(Server, stored) });
        Assert.Equal(joining.Uid, rejoined.User.Uid);
    }

    [Fact]
    public async Task ValidateNewMember_WithADisplayName_RenamesTheMember_AndItsOwnNameIsNotTakenFromItself()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var renamed = await PhonelessMemberAsync();
        var newName = TestMembers.UniqueName("joined");
        var moved = await Client.ValidateNewMemberAsync(await RequestAsync(owner, renamed, newName));
        Assert.Equal(newName, moved.Object.DisplayName);
        Assert.Equal(DisplayNameRules.Key(newName), await TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.Uid == renamed.Uid).Select(m => m.DisplayNameKey).SingleAsync()));

        var same = await PhonelessMemberAsync();
        var kept = await Client.ValidateNewMemberAsync(await RequestAsync(owner, same, same.DisplayName));
        Assert.Equal(same.DisplayName, kept.Object.DisplayName);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("not-a-token", false)]
    [InlineData("", true)]
    [InlineData("not-a-token", true)]
    public async Task ValidateNewMember_MissingOrUnknownToken_IsTokenInvalid_AndMovesNothing(string bad, bool badIsTheJoiningMembers)
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var request = await RequestAsync(owner, joining);
        if (badIsTheJoiningMembers)
        {
            request.NewMemberAccessToken = bad;
        }
        else
        {
            request.CurrentPhoneAuthToken = bad;
        }

        await Errors.ExpectAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync, StatusCode.Unauthenticated, "ErrValidateNewMember.TOKEN_INVALID");
        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
    }

    [Fact]
    public async Task ValidateNewMember_TokensOfTheWrongKind_AreTokenInvalid()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var ownerAccess = await TestMembers.AccessTokenAsync(Server, owner);
        var joiningAuth = await TestMembers.AuthTokenAsync(Server, joining);

        // An access token where the phone's auth token belongs, and an auth token where the member's access token belongs.
        await Errors.ExpectAsync(
            () => Client.ValidateNewMemberAsync(new ValidateNewMemberRequest { CurrentPhoneAuthToken = ownerAccess, NewMemberAccessToken = joiningAuth }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateNewMember.TOKEN_INVALID");
        var request = await RequestAsync(owner, joining);
        request.NewMemberAccessToken = joiningAuth;
        await Errors.ExpectAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync, StatusCode.Unauthenticated, "ErrValidateNewMember.TOKEN_INVALID");
        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
    }

    [Fact]
    public async Task ValidateNewMember_AMemberThatAlreadyHasAPhone_IsExistingPhone_AndStaysOnIt()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var elsewhere = await TestMembers.CreateAsync(Server);
        await Errors.ExpectAsync(async () => await Client.ValidateNewMemberAsync(await RequestAsync(owner, elsewhere)),
            StatusCode.AlreadyExists, "ErrValidateNewMember.EXISTING_PHONE");
        Assert.Equal(elsewhere.AccountId, await AccountOfAsync(elsewhere.Uid));

        // The phone's own member is no newcomer either.
        await Errors.ExpectAsync(async () => await Client.ValidateNewMemberAsync(await RequestAsync(owner, owner)),
            StatusCode.AlreadyExists, "ErrValidateNewMember.EXISTING_PHONE");
    }

    [Fact]
    public async Task ValidateNewMember_UnderAnAuthTokenWhoseAccountHasNoPhone_IsFailedPrecondition_AndMovesNothing()
    {
        // Why: only a phone may take members in; a phoneless (imported or guest) member's auth token names no phone, and
        // the joining member must not end up under another phoneless account, nor "join" its own.
        var phoneless = await PhonelessMemberAsync();
        var joining = await PhonelessMemberAsync();
        var joiningAccess = await TestMembers.AccessTokenAsync(Server, joining);
        foreach (var caller in new[] { phoneless, joining })
        {
            await Errors.ExpectAsync(
                async () => await Client.ValidateNewMemberAsync(new ValidateNewMemberRequest
                {
                    CurrentPhoneAuthToken = await TestMembers.AuthTokenAsync(Server, caller), NewMemberAccessToken = joiningAccess,
                }),
                StatusCode.FailedPrecondition, "ErrValidateNewMember.FAILED");
        }

        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
        Assert.Equal(joining.Uid, (await Client.MeAsync(new MeRequest { AccessToken = joiningAccess })).User.Uid);
    }

    [Theory]
    [InlineData(AuthMethods.Password)]
    [InlineData(AuthMethods.EmailCode)]
    [InlineData(AuthMethods.LoginToken)]
    [InlineData("auth-by-omniauth")]
    public async Task ValidateNewMember_UnderAnAuthTokenThatProvedOneMemberNotThePhone_IsFailedPrecondition_AndMovesNothing(string authMethod)
    {
        // Why: a password, a mailbox, a hand-off or a social login proves one member of the phone, not the phone
        // (README "Tokens"); bringing a member under the phone acts for the phone's holder, as the field's name says.
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var joiningAccess = await TestMembers.AccessTokenAsync(Server, joining);

        await Errors.ExpectAsync(
            async () => await Client.ValidateNewMemberAsync(new ValidateNewMemberRequest
            {
                CurrentPhoneAuthToken = await TestMembers.AuthTokenAsync(Server, owner, authMethod), NewMemberAccessToken = joiningAccess,
            }),
            StatusCode.FailedPrecondition, "ErrValidateNewMember.FAILED");

        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
        Assert.Equal(joining.Uid, (await Client.MeAsync(new MeRequest { AccessToken = joiningAccess })).User.Uid);
    }

    [Theory]
    [InlineData("?")]
    [InlineData(" ")]
    public async Task ValidateNewMember_ADisplayNameAgainstTheRules_IsNameInvalidNamingTheField(string name)
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var ex = await Errors.ExpectAsync(async () => await Client.ValidateNewMemberAsync(await RequestAsync(owner, joining, name)),
            StatusCode.InvalidArgument, "ErrValidateNewMember.NAME_INVALID");
        Assert.Equal("display_name", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
    }

    [Fact]
    public async Task ValidateNewMember_ATakenOrReservedDisplayName_IsNameInvalidAlreadyExists_AndKeepsTheOldName()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        foreach (var taken in new[] { owner.DisplayName!, owner.DisplayName!.ToUpperInvariant(), "admin" })
        {
            var ex = await Errors.ExpectAsync(async () => await Client.ValidateNewMemberAsync(await RequestAsync(owner, joining, taken)),
                StatusCode.AlreadyExists, "ErrValidateNewMember.NAME_INVALID");
            Assert.Equal("display_name", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        var stored = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == joining.Uid));
        Assert.Equal((joining.AccountId, joining.DisplayName), (stored.AccountId, stored.DisplayName));
    }

    [Fact]
    public async Task ValidateNewMember_IntoAFullPhone_IsMaximumMember_AndTheMemberKeepsItsPlaceAndSessions()
    {
        var owner = await TestMembers.CreateAsync(Server);
        for (var i = 1; i < 5; i++)
        {
            await TestMembers.AddToPhoneAsync(Server, owner);
        }

        var joining = await PhonelessMemberAsync();
        var joiningAccess = await TestMembers.AccessTokenAsync(Server, joining);
        var request = await RequestAsync(owner, joining);
        request.NewMemberAccessToken = joiningAccess;
        await Errors.ExpectAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync, StatusCode.ResourceExhausted, "ErrValidateNewMember.MAXIMUM_MEMBER");

        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
        Assert.Equal(joining.Uid, (await Client.MeAsync(new MeRequest { AccessToken = joiningAccess })).User.Uid);
    }

    [Fact]
    public async Task ValidateNewMember_InParallelIntoTheLastSlot_MovesExactlyOne_TheOthersAreMaximumMember()
    {
        var owner = await TestMembers.CreateAsync(Server);
        for (var i = 1; i < 4; i++)
        {
            await TestMembers.AddToPhoneAsync(Server, owner);
        }

        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        var requests = new List<ValidateNewMemberRequest>();
        for (var i = 0; i < 4; i++)
        {
            var joining = await PhonelessMemberAsync();
            requests.Add(new ValidateNewMemberRequest
            {
                CurrentPhoneAuthToken = auth, NewMemberAccessToken = await TestMembers.AccessTokenAsync(Server, joining), VerifyToken = await ProofAsync(joining),
            });
        }

        var results = await Task.WhenAll(requests.Select(r => Errors.ReasonOfAsync(() => Client.ValidateNewMemberAsync(r).ResponseAsync)));
        Assert.Equal(1, results.Count(r => r is null));
        Assert.All(results.Where(r => r is not null), r => Assert.Equal("ErrValidateNewMember.MAXIMUM_MEMBER", r));
        Assert.Equal(5, await TestMembers.WithDbAsync(Server, db => db.Members.CountAsync(m => m.AccountId == owner.AccountId && m.Deleted == null)));
    }

    [Fact]
    public async Task ValidateNewMember_OneMemberIntoTwoPhonesAtOnce_JoinsOne_TheOtherIsRefusedAndGainsNothing()
    {
        // Why several rounds: the two calls must overlap for the race to show; each round is one try at it.
        for (var round = 0; round < 10; round++)
        {
            var first = await TestMembers.CreateAsync(Server);
            var second = await TestMembers.CreateAsync(Server);
            var joining = await PhonelessMemberAsync();
            var access = await TestMembers.AccessTokenAsync(Server, joining);
            var phones = new[] { first, second };
            var requests = new List<ValidateNewMemberRequest>();
            foreach (var phone in phones)
            {
                // Each call with a verify token of its own: the race is over the member's place, not over one token.
                requests.Add(new ValidateNewMemberRequest
                {
                    CurrentPhoneAuthToken = await TestMembers.AuthTokenAsync(Server, phone), NewMemberAccessToken = access, VerifyToken = await ProofAsync(joining),
                });
            }

            var results = await Task.WhenAll(requests.Select(r => Errors.ReasonOfAsync(() => Client.ValidateNewMemberAsync(r).ResponseAsync)));

            // Exactly one phone took the member in; the other call was refused (the member has a phone by then, or its
            // old access token ended with the move) and its phone holds only its owner.
            var winner = Assert.Single(Enumerable.Range(0, 2), i => results[i] is null);
            Assert.Contains(results[1 - winner], new[] { "ErrValidateNewMember.EXISTING_PHONE", "ErrValidateNewMember.TOKEN_INVALID" });
            Assert.Equal(phones[winner].AccountId, await AccountOfAsync(joining.Uid));
            var loser = phones[1 - winner].AccountId;
            Assert.Equal(1, await TestMembers.WithDbAsync(Server, db => db.Members.CountAsync(m => m.AccountId == loser)));
        }
    }

    [Fact]
    public async Task ValidateNewMember_RacingTheDeletionOfThePhonesLastMember_NeverMovesTheMemberUnderTheDeletedAccount()
    {
        var commands = new Pan.General.Member.Dangerous.Command.CommandClient(Server.Grpc);
        // Why several rounds: the two calls must overlap for the race to show; each round is one try at it.
        for (var round = 0; round < 8; round++)
        {
            var owner = await TestMembers.CreateAsync(Server);
            var joining = await PhonelessMemberAsync();
            var request = await RequestAsync(owner, joining);
            var deletion = commands.DeleteMemberAsync(new Pan.General.Member.Dangerous.CmdDeleteMemberRequest
            {
                AppId = "jkforum", PanAccessToken = await TestMembers.AccessTokenAsync(Server, owner),
                DelToken = await Pan.Tests.Foundation.HalfWrittenChecks.VerifyTokenAsync(Server, owner.Uid, Pan.Server.Tokens.VerifyPurposes.Delete),
            }).ResponseAsync;
            var moved = Errors.ReasonOfAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync);
            await deletion;
            var reason = await moved;

            // Either the move came first (the deletion then took only the owner, and the account stays with the moved
            // member), or the deletion did (the account is gone with its phone and sessions, and the move is refused
            // with nothing written: the member stays where it was, signed in): never a member moved under a deleted
            // account, which nobody could sign in to and whose phone is already free.
            var accountDeleted = await TestMembers.WithDbAsync(Server, db => db.Accounts.Where(a => a.Id == owner.AccountId).Select(a => a.Deleted != null).SingleAsync());
            var live = await TestMembers.WithDbAsync(Server, db => db.Members.CountAsync(m => m.AccountId == owner.AccountId && m.Deleted == null));
            Assert.Equal(accountDeleted ? ("ErrValidateNewMember.TOKEN_INVALID", 0) : (null, 1), (reason, live));
            if (accountDeleted)
            {
                Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
                Assert.Equal(joining.Uid, (await Client.MeAsync(new MeRequest { AccessToken = request.NewMemberAccessToken })).User.Uid);
            }
        }
    }

    [Fact]
    public async Task ValidateNewMember_TwoMembersRenamedToOneNameAtOnce_OneIsRenamed_TheOtherIsNameInvalidNeverInternal()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        var name = TestMembers.UniqueName("race");
        var requests = new List<ValidateNewMemberRequest>();
        for (var i = 0; i < 3; i++)
        {
            var joining = await PhonelessMemberAsync();
            requests.Add(new ValidateNewMemberRequest
            {
                CurrentPhoneAuthToken = auth,
                NewMemberAccessToken = await TestMembers.AccessTokenAsync(Server, joining),
                DisplayName = name,
                VerifyToken = await ProofAsync(joining),
            });
        }

        var results = await Task.WhenAll(requests.Select(r => Errors.ReasonOfAsync(() => Client.ValidateNewMemberAsync(r).ResponseAsync)));
        Assert.Equal(1, results.Count(r => r is null));
        Assert.All(results.Where(r => r is not null), r => Assert.Equal("ErrValidateNewMember.NAME_INVALID", r));
        Assert.Equal(1, await TestMembers.WithDbAsync(Server, db => db.Members.CountAsync(m => m.DisplayNameKey == DisplayNameRules.Key(name))));
    }

    /// <summary>
    /// The phone's member suspended while a ValidateNewMember under its auth token is moving the joining member (on
    /// PostgreSQL the move waits at a gate on its write of the joining member's row, after it checked that token): the
    /// suspension ends the token's session, so either it commits first and the move is TOKEN_INVALID, moving nothing, as
    /// after the suspension, or it waits for the move to commit. Never a move committed on a session the suspension had
    /// already ended. SQLite runs one writer at a time: there the move ends before the suspension starts.
    /// </summary>
    [Fact]
    public async Task ValidateNewMember_WhileThePhonesMembersSuspensionCommits_IsTokenInvalid_OrCommitsBeforeIt()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var request = await RequestAsync(owner, joining);
        string? reason;
        var suspendedWhileTheMoveWaited = false;
        await using (var gate = await WriteGate.CloseAsync(Server, fixture.Database, "members", TriggeredWrite.Update, FailureTriggers.UidIs(TriggeredWrite.Update, joining.Uid)))
        {
            var call = Task.Run(() => Errors.ReasonOfAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync));
            if (gate.Holds)
            {
                Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, call));
            }
            else
            {
                await call;
            }

            var suspension = Task.Run(() => Admin.TestSuspensions.SuspendAsync(Server, owner.Uid));
            if (gate.Holds)
            {
                suspendedWhileTheMoveWaited = !await LockWaits.UntilAsync(fixture.Database, 2, suspension);
            }

            await gate.OpenAsync();
            reason = await call;
            await suspension;
        }

        if (suspendedWhileTheMoveWaited)
        {
            Assert.Equal("ErrValidateNewMember.TOKEN_INVALID", reason);
            Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
        }
        else
        {
            Assert.Null(reason);
            Assert.Equal(owner.AccountId, await AccountOfAsync(joining.Uid));
        }
    }

    /// <summary>
    /// The joining member's suspension uncommitted while ValidateNewMember moves it (its access token and verify token
    /// checked just before): on PostgreSQL the move waits for the suspension at the joining member's row and then finds
    /// its verify token ended with the suspension (FAILED, the answer for a spent proof); on SQLite it meets the committed
    /// suspension at its access token (TOKEN_INVALID) or its verify token. Either way nothing is moved.
    /// </summary>
    [Fact]
    public async Task ValidateNewMember_WhileTheJoiningMembersSuspensionIsUncommitted_MovesNothing()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var request = await RequestAsync(owner, joining);
        Task<string?> call;
        await using (var suspension = await Admin.UncommittedSuspension.StartAsync(Server, fixture.Database, joining.Uid))
        {
            call = Task.Run(() => Errors.ReasonOfAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync));
            Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        Assert.Contains(await call, new[] { "ErrValidateNewMember.FAILED", "ErrValidateNewMember.TOKEN_INVALID" });
        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
    }

    /// <summary>A member of an account without a phone (an imported member or a guest), as ValidateNewMember expects.</summary>
    /// <summary>
    /// ValidateNewMember opens no session (it moves the member), so a suspension stops it through the joining member's
    /// access token and verify tokens, which ended with it; nothing is moved. Suspending the phone's member ends
    /// current_phone_auth_token alike.
    /// </summary>
    [Fact]
    public async Task ValidateNewMember_AfterTheJoiningOrThePhonesMembersSuspension_IsTokenInvalid_AndMovesNothing()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var request = await RequestAsync(owner, joining);
        await Admin.TestSuspensions.SuspendAsync(Server, joining.Uid);

        await Errors.ExpectAsync(() => Client.ValidateNewMemberAsync(request).ResponseAsync, StatusCode.Unauthenticated, "ErrValidateNewMember.TOKEN_INVALID");

        await Admin.TestSuspensions.RestoreAsync(Server, joining.Uid);
        var again = await RequestAsync(owner, joining);
        await Admin.TestSuspensions.SuspendAsync(Server, owner.Uid);
        await Errors.ExpectAsync(() => Client.ValidateNewMemberAsync(again).ResponseAsync, StatusCode.Unauthenticated, "ErrValidateNewMember.TOKEN_INVALID");
        Assert.Equal(joining.AccountId, await AccountOfAsync(joining.Uid));
    }

    private async Task<Member> PhonelessMemberAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var name = TestMembers.UniqueName();
        var member = new Member { DisplayName = name, DisplayNameKey = DisplayNameRules.Key(name), IsOwner = true, MigrationStatus = 1 };
        return await scope.ServiceProvider.GetRequiredService<MemberCreator>().CreateAsync(new Account(), member, default);
    }

    private async Task<ValidateNewMemberRequest> RequestAsync(Member phoneMember, Member joining, string? displayName = null) => new()
    {
        CurrentPhoneAuthToken = await TestMembers.AuthTokenAsync(Server, phoneMember),
        NewMemberAccessToken = await TestMembers.AccessTokenAsync(Server, joining),
        DisplayName = displayName ?? string.Empty,
        VerifyToken = await ProofAsync(joining),
    };

    /// <summary>The joining member's update-credential verify token, issued as its step-up (its password or mailbox) would.</summary>
    private Task<string> ProofAsync(Member joining) =>
        Foundation.HalfWrittenChecks.VerifyTokenAsync(Server, joining.Uid, VerifyPurposes.UpdateCredential);

    private Task<bool> IsLiveAsync(string token, long uid) =>
        UseTokensAsync(t => t.VerifyTokenIsLiveAsync(token, uid, VerifyPurposes.UpdateCredential, default));

    private async Task<bool> UseTokensAsync(Func<TokenService, Task<bool>> use)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await use(scope.ServiceProvider.GetRequiredService<TokenService>());
    }

    private Task<long> AccountOfAsync(long uid) =>
        TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.Uid == uid).Select(m => m.AccountId).SingleAsync());
}

public sealed class ValidateNewMemberBehaviour_Sqlite(SqliteServerFixture f) : ValidateNewMemberBehaviour<SqliteServerFixture>(f);

public sealed class ValidateNewMemberBehaviour_Postgres(PostgresServerFixture f) : ValidateNewMemberBehaviour<PostgresServerFixture>(f);
