using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using Platform = Pan.General.Member.UnlockSessionTokenRequest.Types.Platform;

namespace Pan.Tests.PhoneFlows;

/// <summary>
/// SECURITY 15 with <c>Pan:Captcha:Mode=risk</c>: once the SMS risk rules trip for a phone (here after one send in the
/// hour), its check-existence steps ask the captcha before telling whether it has an account, as in mode always; a
/// phone the rules leave alone is told at once.
/// </summary>
public abstract class RiskCaptchaExistenceBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : RiskCaptchaFlowFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    /// <summary>A phone without an account that the risk rule trips for: one sign-up code went to it (never used).</summary>
    private async Task<string> RiskyUnknownPhoneAsync()
    {
        var (_, e164) = Phones.NewNumber();
        await Client.RegisterAsync(CaptchaFlows.Register(e164, null));
        await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        return e164;
    }

    [Fact]
    public async Task Login_RiskyPhones_AnswerAlikeUntilTheCaptchaIsPassed()
    {
        // Why risky: its sign-up code was the phone's one send of the hour the rule allows without a captcha.
        var known = await CaptchaFlows.RegisterAsync(Client, fixture);
        var unknown = await RiskyUnknownPhoneAsync();

        var a = await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(known, null)).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        var b = await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(unknown, null)).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        CaptchaFlows.AssertAlike(a, b);
        Assert.Single(fixture.Inbox.MessagesTo(known));
        Assert.Single(fixture.Inbox.MessagesTo(unknown));

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = a.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = b.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        var code = await Phones.NthCodeAsync(fixture.Inbox, known, 2);
        var done = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = a.Token, PhaseInputCodeValue = code });
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = b.Token, PhaseInputCodeValue = "123456" }).ResponseAsync,
            StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        Assert.Single(fixture.Inbox.MessagesTo(unknown));
    }

    [Fact]
    public async Task Register_RiskyTakenPhone_IsRecaptchaFailedLikeAFreeOne_NotExistingMember()
    {
        var taken = await CaptchaFlows.RegisterAsync(Client, fixture);
        var free = await RiskyUnknownPhoneAsync();

        var a = await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(CaptchaFlows.Register(taken, null)).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED");
        var b = await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(CaptchaFlows.Register(free, null)).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED");
        CaptchaFlows.AssertAlike(a, b);

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = a.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        await Errors.ExpectAsync(
            () => Client.RegisterAsync(new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputCode, PhaseSessionToken = a.Token }).ResponseAsync,
            StatusCode.AlreadyExists, "ErrRegister.EXISTING_MEMBER");
        Assert.Single(fixture.Inbox.MessagesTo(taken));
    }

    [Fact]
    public async Task Register_ResendToAPhoneTheRulesTrippedFor_WaitsForACaptchaPerSend()
    {
        // Why: the first send is the phone's one send of the hour without a captcha; each resend is another send to a
        // risky phone and needs its own captcha, as a new flow's first send would (SECURITY 8).
        var (_, e164) = Phones.NewNumber();
        var start = await Client.RegisterAsync(CaptchaFlows.Register(e164, null));
        await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        var resend = new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken };

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        var refused = await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(resend).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED");
        Assert.Equal(start.PhaseSessionToken, refused.Token);
        Assert.Single(fixture.Inbox.MessagesTo(e164));

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = refused.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        var second = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(resend).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED");
        Assert.Equal(2, fixture.Inbox.MessagesTo(e164).Count);

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = refused.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        var third = await Phones.NthCodeAsync(fixture.Inbox, e164, 3);
        var accepted = await Client.RegisterAsync(new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = third });
        Assert.Equal(RegisterRequest.Types.Phase.InputName, accepted.NextPhase);
        _ = second;
    }

    [Fact]
    public async Task Register_AfterARefusedResend_TheCodeAlreadySentStillWorks_AndTheFlowFinishes()
    {
        // Why: the captcha pays for a send; the code texted before the refused resend is still live (nothing was sent
        // and nothing killed it), and a member whose SMS arrived late must be able to type it.
        var (_, e164) = Phones.NewNumber();
        var start = await Client.RegisterAsync(CaptchaFlows.Register(e164, null));
        var first = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken }).ResponseAsync,
            "ErrRegister.GENERAL_RECAPTCHA_FAILED");

        var accepted = await Client.RegisterAsync(new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = first });
        Assert.Equal(RegisterRequest.Types.Phase.InputName, accepted.NextPhase);
        var done = await Client.RegisterAsync(new RegisterRequest { Phase = RegisterRequest.Types.Phase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = Phones.NewName() });
        Assert.False(string.IsNullOrEmpty(done.PhaseDoneAuthToken));
        Assert.Single(fixture.Inbox.MessagesTo(e164));
    }

    [Fact]
    public async Task Login_AfterARefusedResend_TheCodeAlreadySentStillSignsIn_AndAResendStillWaits()
    {
        var known = await CaptchaFlows.RegisterAsync(Client, fixture);
        var a = await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(known, null)).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = a.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        var code = await Phones.NthCodeAsync(fixture.Inbox, known, 2);

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        var resend = new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = a.Token };
        await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(resend).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(resend).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        Assert.Equal(2, fixture.Inbox.MessagesTo(known).Count);

        var done = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = a.Token, PhaseInputCodeValue = code });
        Assert.Equal(LoginPhase.Done, done.NextPhase);
    }

    [Fact]
    public async Task Login_PhoneTheRulesLeaveAlone_IsNotFoundAtOnce()
    {
        var (_, unknown) = Phones.NewNumber();
        await Errors.ExpectAsync(() => Client.LoginAsync(CaptchaFlows.Login(unknown, null)).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
    }
}

/// <summary>Captcha mode risk; a phone is risky after one send in the hour, the client address never (tests share it).</summary>
public abstract class RiskCaptchaFlowFixture : CaptchaFlowFixture
{
    protected override string Mode => "risk";

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["Pan:Sms:Risk:PhonePerHour"] = "1";
            settings["Pan:Sms:Risk:IpPerHour"] = "1000000";
            return settings;
        }
    }
}

public sealed class SqliteRiskCaptchaFlowFixture : RiskCaptchaFlowFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresRiskCaptchaFlowFixture : RiskCaptchaFlowFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class RiskCaptchaExistenceBehaviour_Sqlite(SqliteRiskCaptchaFlowFixture f) : RiskCaptchaExistenceBehaviour<SqliteRiskCaptchaFlowFixture>(f);

public sealed class RiskCaptchaExistenceBehaviour_Postgres(PostgresRiskCaptchaFlowFixture f) : RiskCaptchaExistenceBehaviour<PostgresRiskCaptchaFlowFixture>(f);
