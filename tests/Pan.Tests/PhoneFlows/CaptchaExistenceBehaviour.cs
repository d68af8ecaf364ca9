using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using Platform = Pan.General.Member.UnlockSessionTokenRequest.Types.Platform;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;

namespace Pan.Tests.PhoneFlows;

/// <summary>
/// SECURITY 15 with <c>Pan:Captcha:Mode=always</c>: the phone check-existence steps ask their captcha before they tell
/// whether the phone has an account. A missing or refused captcha answers alike for a phone with and without one (the
/// flow's GENERAL_RECAPTCHA_FAILED with a phase_session_token, no SMS); once the captcha is passed the flow's next
/// step tells, and only a flow that can continue sends a code.
/// </summary>
public abstract class CaptchaExistenceBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CaptchaFlowFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    [Theory]
    [InlineData(null)]
    [InlineData("forged")]
    public async Task Login_WithoutCaptcha_AnswersAlikeForPhonesWithAndWithoutAccount_AndSendsNothing(string? captcha)
    {
        var known = await CaptchaFlows.RegisterAsync(Client, fixture);
        var (_, unknown) = Phones.NewNumber();
        var sentBefore = fixture.Inbox.MessagesTo(known).Count;

        var a = await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(known, captcha)).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        var b = await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(unknown, captcha)).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");

        CaptchaFlows.AssertAlike(a, b);
        Assert.Equal(sentBefore, fixture.Inbox.MessagesTo(known).Count);
        Assert.Empty(fixture.Inbox.MessagesTo(unknown));
    }

    [Fact]
    public async Task Login_AfterUnlock_PhoneWithAccountGetsItsCode_PhoneWithoutIsNotFoundAtInputCode_WithoutSms()
    {
        var known = await CaptchaFlows.RegisterAsync(Client, fixture);
        var (_, unknown) = Phones.NewNumber();
        var knownToken = (await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(known, null)).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED")).Token;
        var unknownToken = (await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(unknown, null)).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED")).Token;

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = knownToken, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = unknownToken, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });

        var code = await Phones.NthCodeAsync(fixture.Inbox, known, 2);
        var done = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = knownToken, PhaseInputCodeValue = code });
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        Assert.NotEmpty(done.PhaseDoneAuthToken);

        // Why both: a resend (empty code) and a guessed code are each told the phone has no account, and neither sends.
        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = unknownToken }).ResponseAsync,
            StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = unknownToken, PhaseInputCodeValue = "123456" }).ResponseAsync,
            StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        Assert.Empty(fixture.Inbox.MessagesTo(unknown));
    }

    [Fact]
    public async Task Login_WithCaptchaInTheRequest_TellsAtOnce()
    {
        var known = await CaptchaFlows.RegisterAsync(Client, fixture);
        var (_, unknown) = Phones.NewNumber();

        var start = await Client.LoginAsync(CaptchaFlows.Login(known, fixture.Recaptcha.Accept()));
        Assert.Equal(LoginPhase.InputCode, start.NextPhase);
        Assert.NotEmpty(await Phones.NthCodeAsync(fixture.Inbox, known, 2));

        await Errors.ExpectAsync(() => Client.LoginAsync(CaptchaFlows.Login(unknown, fixture.Recaptcha.Accept())).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        Assert.Empty(fixture.Inbox.MessagesTo(unknown));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("forged")]
    public async Task Register_WithoutCaptcha_AnswersAlikeForPhonesWithAndWithoutAccount_AndSendsNothing(string? captcha)
    {
        var taken = await CaptchaFlows.RegisterAsync(Client, fixture);
        var (_, free) = Phones.NewNumber();
        var sentBefore = fixture.Inbox.MessagesTo(taken).Count;

        var a = await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(CaptchaFlows.Register(taken, captcha)).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED");
        var b = await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(CaptchaFlows.Register(free, captcha)).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED");

        CaptchaFlows.AssertAlike(a, b);
        Assert.Equal(sentBefore, fixture.Inbox.MessagesTo(taken).Count);
        Assert.Empty(fixture.Inbox.MessagesTo(free));
    }

    [Fact]
    public async Task Register_AfterUnlock_TakenPhoneIsExistingMemberAtInputCode_WithoutSms_FreePhoneGetsItsCode()
    {
        var taken = await CaptchaFlows.RegisterAsync(Client, fixture);
        var (_, free) = Phones.NewNumber();
        var takenToken = (await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(CaptchaFlows.Register(taken, null)).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED")).Token;
        var freeToken = (await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(CaptchaFlows.Register(free, null)).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED")).Token;
        var sentBefore = fixture.Inbox.MessagesTo(taken).Count;

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = takenToken, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = freeToken, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });

        var code = await fixture.Inbox.WaitForCodeAsync(free, Phones.Wait);
        var next = await Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = freeToken, PhaseInputCodeValue = code });
        Assert.Equal(RegPhase.InputName, next.NextPhase);

        await Errors.ExpectAsync(
            () => Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = takenToken }).ResponseAsync,
            StatusCode.AlreadyExists, "ErrRegister.EXISTING_MEMBER");
        await Errors.ExpectAsync(
            () => Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = takenToken, PhaseInputCodeValue = "123456" }).ResponseAsync,
            StatusCode.AlreadyExists, "ErrRegister.EXISTING_MEMBER");
        Assert.Equal(sentBefore, fixture.Inbox.MessagesTo(taken).Count);
    }

    [Fact]
    public async Task Register_WithCaptchaInTheRequest_TakenPhoneIsExistingMemberAtOnce()
    {
        var taken = await CaptchaFlows.RegisterAsync(Client, fixture);
        var sentBefore = fixture.Inbox.MessagesTo(taken).Count;
        await Errors.ExpectAsync(
            () => Client.RegisterAsync(CaptchaFlows.Register(taken, fixture.Recaptcha.Accept())).ResponseAsync,
            StatusCode.AlreadyExists, "ErrRegister.EXISTING_MEMBER");
        Assert.Equal(sentBefore, fixture.Inbox.MessagesTo(taken).Count);
    }
}

/// <summary>Requests and checks shared by the captcha existence suites.</summary>
internal static class CaptchaFlows
{
    public sealed record Refusal(StatusCode Status, string Reason, string Message, IReadOnlyCollection<string> MetadataKeys, string Token);

    public static LoginRequest Login(string e164, string? captcha) => new()
    {
        Phase = LoginPhase.CheckExistence,
        LoginType = LoginRequest.Types.LoginType.Phone,
        PhaseCheckExistenceValue = e164,
        PhaseSessionValid = captcha ?? string.Empty,
    };

    public static RegisterRequest Register(string e164, string? captcha) => new()
    {
        Phase = RegPhase.CheckExistence,
        PhaseCheckExistenceCountryCode = e164[1..4],
        PhaseCheckExistenceValue = "0" + e164[4..],
        PhaseSessionValid = captcha ?? string.Empty,
    };

    /// <summary>Registers a new +886 phone, passing the captcha in the check-existence request; returns its E.164.</summary>
    public static async Task<string> RegisterAsync(MemberServiceV2.MemberServiceV2Client client, CaptchaFlowFixture fixture)
    {
        var (_, e164) = Phones.NewNumber();
        var start = await client.RegisterAsync(Register(e164, fixture.Recaptcha.Accept()));
        var code = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        await client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        var done = await client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = Phones.NewName() });
        Assert.Equal(RegPhase.Done, done.NextPhase);
        return e164;
    }

    public static async Task<Refusal> RefusedAsync(Func<Task> call, string reason)
    {
        var ex = await Errors.ExpectAsync(call, StatusCode.PermissionDenied, reason);
        var info = ex.Info();
        var token = info.Metadata["phase_session_token"];
        Assert.False(string.IsNullOrEmpty(token));
        return new Refusal(ex.StatusCode, info.Reason, ex.Status.Detail, info.Metadata.Keys.Order().ToList(), token);
    }

    /// <summary>Two refusals a client cannot tell apart (their session tokens differ, as any two flows' do).</summary>
    public static void AssertAlike(Refusal a, Refusal b)
    {
        Assert.Equal((a.Status, a.Reason, a.Message), (b.Status, b.Reason, b.Message));
        Assert.Equal(a.MetadataKeys, b.MetadataKeys);
        Assert.NotEqual(a.Token, b.Token);
    }
}

public sealed class CaptchaExistenceBehaviour_Sqlite(SqliteCaptchaFlowFixture f) : CaptchaExistenceBehaviour<SqliteCaptchaFlowFixture>(f);

public sealed class CaptchaExistenceBehaviour_Postgres(PostgresCaptchaFlowFixture f) : CaptchaExistenceBehaviour<PostgresCaptchaFlowFixture>(f);
