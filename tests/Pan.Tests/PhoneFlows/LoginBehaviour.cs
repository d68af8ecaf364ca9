using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pan.Data;
using Pan.Data.Members;
using Pan.Data.PhaseSessions;
using Pan.Server.BruteForce;
using Pan.Server.Members;
using Pan.Server.PhaseSessions;
using Pan.General.Member;
using Pan.Tests.Deletion;
using Pan.Tests.Infrastructure;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;

namespace Pan.Tests.PhoneFlows;

/// <summary>Sign-in by phone and SMS code, tokens across nodes, and logout.</summary>
public abstract class LoginBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneFlowFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    private Phones Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task Login_FullFlow_ReturnsAnAuthTokenForTheDefaultMember()
    {
        var name = Phones.NewName();
        var (_, e164) = await Phones.RegisterAsync(name);
        var start = await Phones.StartLoginAsync(e164);
        Assert.Equal(LoginPhase.InputCode, start.NextPhase);
        Assert.Equal(LoginResponse.Types.LoginType.Phone, start.PhaseCheckExistenceLoginType);
        Assert.False(start.PhaseCheckExistenceQuestion);

        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var done = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        var access = await Phones.AccessTokenAsync(done.PhaseDoneAuthToken);
        var info = await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access });
        Assert.Equal(name, info.Info.DisplayName);
    }

    /// <summary>The Login twin of Register's: a national number without a country code names the country code field.</summary>
    [Theory]
    [InlineData("", "0912345678", "phase_check_existence_country_code")]
    [InlineData("TWN", "0912345678", "phase_check_existence_country_code")]
    [InlineData("886", "", "phase_check_existence_value")]
    public async Task Login_PhoneWithoutAUsableCountryCode_IsInvalidArgumentNamingTheCountryCode(string country, string value, string field)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.LoginAsync(new LoginRequest
        {
            Phase = LoginPhase.CheckExistence, LoginType = LoginRequest.Types.LoginType.Phone,
            PhaseCheckExistenceCountryCode = country, PhaseCheckExistenceValue = value,
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(field, Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task Login_UnknownPhone_IsNotFound()
    {
        var (_, e164) = Phones.NewNumber();
        await Errors.ExpectAsync(() => Phones.StartLoginAsync(e164), StatusCode.NotFound, "ErrLogin.NOT_FOUND");
    }

    [Fact]
    public async Task Login_WrongCode_IsCodeInvalid_AndUnknownSessionIsSessionInvalid()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var start = await Phones.StartLoginAsync(e164);
        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = "12345x" }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = "nope", PhaseInputCodeValue = "123456" }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrLogin.SESSION_INVALID");
    }

    [Fact]
    public async Task Login_TenParallelSubmissionsOfOneValidCode_ExactlyOneWins()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var start = await Phones.StartLoginAsync(e164);
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Phones.StatusOf(() =>
            Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code }).ResponseAsync)));
        Assert.Equal(1, results.Count(r => r == StatusCode.OK));
    }

    [Fact]
    public async Task Login_WrongCodes_AreCountedOnTheCodeAndTheMember_AndTheRightCodeThenSignsInAndClearsTheStreak()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var start = await Phones.StartLoginAsync(e164);
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var wrong = code == "000000" ? "111111" : "000000";
        for (var i = 0; i < 2; i++)
        {
            await Errors.ExpectAsync(
                () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = wrong }).ResponseAsync,
                StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        }

        var (attempts, uid) = await LoginSessionAsync(e164);
        Assert.Equal(2, attempts);
        Assert.Equal(2, await FailuresAsync(uid));

        var done = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        Assert.Equal(0, await FailuresAsync(uid));
        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrLogin.SESSION_INVALID");
    }

    [Fact]
    public async Task Login_TriesAtADeadCode_AreRefused_AndNotCountedOnTheMember()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var start = await Phones.StartLoginAsync(e164);
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var wrong = code == "000000" ? "111111" : "000000";
        LoginRequest Input(string value) => new() { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = value };

        // Why the clock: past the free failures the member waits 1 s, 2 s, … between tries; 35 s outlasts every wait
        // these tries can earn, and nine of them stay inside the code's 10 minutes.
        for (var i = 0; i < 5; i++)
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
            await Errors.ExpectAsync(() => Client.LoginAsync(Input(wrong)).ResponseAsync, StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        }

        var (attempts, uid) = await LoginSessionAsync(e164);
        Assert.Equal(5, attempts);
        Assert.Equal(5, await FailuresAsync(uid));

        // The code is dead: wrong tries and even the right code are refused, compare nothing and count nothing more.
        foreach (var late in new[] { wrong, "123456", code })
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
            var refused = await Errors.ExpectAsync(() => Client.LoginAsync(Input(late)).ResponseAsync, StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
            Assert.Contains("Too many wrong codes", refused.Status.Detail, StringComparison.Ordinal);
        }

        Assert.Equal((5, uid), await LoginSessionAsync(e164));
        Assert.Equal(5, await FailuresAsync(uid));
    }

    [Fact]
    public async Task Login_DefaultMemberDeletedBetweenSteps_SignsInAsTheRemainingMember()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var start = await Phones.StartLoginAsync(e164);
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        long second;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            // Why directly in the database: a second member, then the first (the default and owner) goes away.
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            var owner = await db.Members.SingleAsync(m => m.Account!.PhoneE164 == e164);
            var creator = scope.ServiceProvider.GetRequiredService<MemberCreator>();
            var account = await db.Accounts.SingleAsync(a => a.Id == owner.AccountId);
            second = (await creator.CreateAsync(account, new Member { DisplayName = Phones.NewName(), DisplayNameKey = Phones.NewName() }, default)).Uid;
            await db.Members.Where(m => m.Uid == owner.Uid).ExecuteUpdateAsync(u => u.SetProperty(m => m.Deleted, DateTimeOffset.UtcNow));
        }

        var done = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        var access = await Phones.AccessTokenAsync(done.PhaseDoneAuthToken);
        var info = await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access });
        Assert.Equal(second, info.Info.Uid);
    }

    [Fact]
    public async Task Login_PhoneWithoutLiveMember_IsPhoneHasNoMember()
    {
        var (_, e164) = await Phones.RegisterAsync();
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            await db.Members.Where(m => m.Account!.PhoneE164 == e164).ExecuteUpdateAsync(u => u.SetProperty(m => m.Deleted, DateTimeOffset.UtcNow));
        }

        await Errors.ExpectAsync(() => Phones.StartLoginAsync(e164), StatusCode.NotFound, "ErrLogin.PHONE_HAS_NO_MEMBER");
    }

    [Fact]
    public async Task Login_StartedWhileTheOnlyMembersDeletionIsUncommitted_AnswersLikeAPhoneWithoutAMember_AndTextsNothing()
    {
        // On PostgreSQL the start finds the member while the deletion's transaction is still open (it still looks live);
        // the code it issues must wait for the deletion, find no live member, and text nothing to the phone. On SQLite
        // the start's first write (the lookup count) waits for the deletion's write lock, so the two run one after the
        // other there.
        var (auth, e164) = await Phones.RegisterAsync();
        var uid = await UidAsync(auth);
        var (call, waited) = await StartLoginDuringDeletionAsync(e164, uid);

        // UncommittedDeletion leaves the account row as it was, so the phone still has its account with no live member.
        await Errors.ExpectAsync(() => call, StatusCode.NotFound, "ErrLogin.PHONE_HAS_NO_MEMBER");
        Assert.Single(fixture.Inbox.MessagesTo(e164));
        Assert.False(await PhaseSessionsOfAsync(uid));
        Assert.True(waited || fixture.Database.Provider != "postgres");
    }

    [Fact]
    public async Task Login_StartedWhileTheDefaultMembersDeletionIsUncommitted_TextsACodeForTheRemainingMember()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var owner = await UidAsync(auth);
        var other = await Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() });
        var (call, waited) = await StartLoginDuringDeletionAsync(e164, owner);

        var start = await call;
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var done = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        var access = await Phones.AccessTokenAsync(done.PhaseDoneAuthToken);
        var info = await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access });
        Assert.Equal(other.Object.Uid, info.Info.Uid);
        Assert.False(await PhaseSessionsOfAsync(owner));
        Assert.True(waited || fixture.Database.Provider != "postgres");
    }

    /// <summary>
    /// Starts a sign-in of <paramref name="e164"/> while member <paramref name="uid"/>'s deletion is uncommitted, then
    /// commits the deletion; the sign-in, and whether it was seen waiting for the deletion (PostgreSQL only).
    /// </summary>
    private async Task<(Task<LoginResponse> Call, bool Waited)> StartLoginDuringDeletionAsync(string e164, long uid)
    {
        await using var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, uid);
        var call = Task.Run(() => Phones.StartLoginAsync(e164));
        var waited = await deletion.WaitUntilBlockingAsync(call);
        await deletion.CommitAsync();
        return (call, waited);
    }

    private async Task<long> UidAsync(string auth) =>
        (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = await Phones.AccessTokenAsync(auth) })).Info.Uid;

    private async Task<bool> PhaseSessionsOfAsync(long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PanDbContext>().Set<PhaseSession>().AnyAsync(s => s.Uid == uid);
    }

    /// <summary>The wrong tries on the phone's newest login code, and the member the flow signs in.</summary>
    private async Task<(int Attempts, long Uid)> LoginSessionAsync(string e164)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var session = await db.Set<PhaseSession>().AsNoTracking()
            .Where(s => s.PhoneE164 == e164 && s.Purpose == PhasePurposes.Login).OrderByDescending(s => s.Id).FirstAsync();
        return (session.CodeAttempts, session.Uid!.Value);
    }

    private async Task<int> FailuresAsync(long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<FailureCounter>().FailuresAsync(uid, default);
    }

    [Fact]
    public async Task Login_PlatformPhases_AreCheckExistenceFromThatPlatform()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var start = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.AndroidDefault, PhaseCheckExistenceValue = e164 });
        Assert.Equal(LoginPhase.AndroidDefault, start.Phase);
        Assert.Equal(LoginPhase.InputCode, start.NextPhase);
    }

    [Fact]
    public async Task CodeText_SaysTheConfiguredLifetime()
    {
        // A deployment that shortens codes to 5 minutes must not text "valid for 10 minutes".
        var settings = fixture.NodeSettings;
        settings["Pan:Codes:CodeMinutes"] = "5";
        await using var node = await PanServer.StartAsync(fixture.Database, settings, fixture.Server.Clock);
        var phones = new Phones(new MemberServiceV2.MemberServiceV2Client(node.Grpc), fixture.Inbox);
        var (_, e164) = await Phones.RegisterAsync();

        await phones.StartLoginAsync(e164);

        var text = (await fixture.Inbox.WaitForMessageAsync(e164, 2, Phones.Wait)).Text;
        Assert.Contains("5 分鐘內有效", text, StringComparison.Ordinal);
        Assert.DoesNotContain("10 分鐘", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_NeverHoldThePhoneNumberACodeOrAToken()
    {
        // SECURITY 16: a node logging everything of its own (Trace) through sign-up, a wrong code, sign-in and logout.
        var logs = new LogCapture();
        var settings = fixture.NodeSettings;
        settings["Logging:LogLevel:Default"] = "Trace";
        settings["Logging:LogLevel:Microsoft"] = "Warning";
        await using var node = await PanServer.StartAsync(fixture.Database, settings, fixture.Server.Clock, b => b.Logging.AddProvider(logs));
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var phones = new Phones(client, fixture.Inbox);

        var (national, e164) = Phones.NewNumber();
        var register = await phones.StartRegisterAsync(national);
        var firstCode = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        await client.RegisterAsync(new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputCode, PhaseSessionToken = register.PhaseSessionToken, PhaseInputCodeValue = firstCode });
        var done = await client.RegisterAsync(new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputName, PhaseSessionToken = register.PhaseSessionToken, PhaseInputNameValue = Phones.NewName() });
        var login = await phones.StartLoginAsync(e164);
        var secondCode = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var wrongCode = secondCode == "000000" ? "111111" : "000000";
        await Phones.StatusOf(() => client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = login.PhaseSessionToken, PhaseInputCodeValue = wrongCode }).ResponseAsync);
        var signedIn = await client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = login.PhaseSessionToken, PhaseInputCodeValue = secondCode });
        var access = await phones.AccessTokenAsync(signedIn.PhaseDoneAuthToken);
        await client.LogoutAsync(new LogoutRequest { PanAccessToken = access });

        var lines = logs.Lines.ToList();
        Assert.NotEmpty(lines);
        var secrets = new[]
        {
            e164, e164.TrimStart('+'), national, firstCode, secondCode, register.PhaseSessionToken, login.PhaseSessionToken,
            done.PhaseDoneAuthToken, signedIn.PhaseDoneAuthToken, access,
        };
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task FlowStartedOnOneNode_FinishesOnAnother_AndLogoutOnOneIsSeenByTheOther()
    {
        await using var other = await fixture.StartNodeAsync();
        var otherClient = new MemberServiceV2.MemberServiceV2Client(other.Grpc);

        var (national, e164) = Phones.NewNumber();
        var start = await Phones.StartRegisterAsync(national);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        await otherClient.RegisterAsync(new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        var done = await Client.RegisterAsync(new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = Phones.NewName() });

        var access = await Phones.AccessTokenAsync(done.PhaseDoneAuthToken);
        await otherClient.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access });
        await Client.LogoutAsync(new LogoutRequest { PanAccessToken = access });
        await Errors.ExpectAsync(
            () => otherClient.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
    }
}

public sealed class LoginBehaviour_Sqlite(SqlitePhoneFlowFixture f) : LoginBehaviour<SqlitePhoneFlowFixture>(f);

public sealed class LoginBehaviour_Postgres(PostgresPhoneFlowFixture f) : LoginBehaviour<PostgresPhoneFlowFixture>(f);

