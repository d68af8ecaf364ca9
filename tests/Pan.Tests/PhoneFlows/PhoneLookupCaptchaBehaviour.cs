using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using Platform = Pan.General.Member.UnlockSessionTokenRequest.Types.Platform;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;

namespace Pan.Tests.PhoneFlows;

/// <summary>
/// SECURITY 15 with <c>Pan:Captcha:Mode=risk</c>: an address that looks up many phones trips the captcha even though
/// lookups of phones without an account send no SMS (which the SMS risk rules count). Past
/// <c>Pan:PhoneLookups:CaptchaAfterPerIpPerHour</c> check-existence steps (Login and Register together) from that
/// address this hour, every further one waits for its captcha before telling, alike for phones with and without an
/// account; other addresses are told at once.
/// </summary>
/// <remarks>
/// Why X-Forwarded-For from a trusted loopback proxy: each test probes from an address of its own, so the tests of a
/// fixture (and the phones registered from loopback to have known ones) do not count against each other.
/// </remarks>
public abstract class PhoneLookupCaptchaBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneLookupCaptchaFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    private static Metadata From(string address) => new() { { "X-Forwarded-For", address } };

    [Fact]
    public async Task Login_ProbingUnknownPhones_IsNotFoundUntilTheThreshold_ThenEveryPhoneWaitsForTheCaptcha()
    {
        var known = await CaptchaFlows.RegisterAsync(Client, fixture);
        var probe = From("203.0.113.10");
        for (var i = 0; i < PhoneLookupCaptchaFixture.Threshold; i++)
        {
            var (_, unknown) = Phones.NewNumber();
            await Errors.ExpectAsync(() => Client.LoginAsync(CaptchaFlows.Login(unknown, null), probe).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        }

        var (_, next) = Phones.NewNumber();
        var a = await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(known, null), probe).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        var b = await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(next, null), probe).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        CaptchaFlows.AssertAlike(a, b);
        Assert.Single(fixture.Inbox.MessagesTo(known)); // its sign-up code only
        Assert.Empty(fixture.Inbox.MessagesTo(next));

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = a.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = b.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        var code = await Phones.NthCodeAsync(fixture.Inbox, known, 2);
        var done = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = a.Token, PhaseInputCodeValue = code });
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = b.Token, PhaseInputCodeValue = "123456" }).ResponseAsync,
            StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        Assert.Empty(fixture.Inbox.MessagesTo(next));
    }

    [Fact]
    public async Task Register_PastTheThreshold_TakenAndFreePhonesAreRecaptchaFailedAlike_ThenToldAfterUnlock()
    {
        var taken = await CaptchaFlows.RegisterAsync(Client, fixture);
        var probe = From("203.0.113.20");
        // Why Login lookups too: the threshold counts Login's and Register's check-existence together.
        var (_, unknown) = Phones.NewNumber();
        await Errors.ExpectAsync(() => Client.LoginAsync(CaptchaFlows.Login(unknown, null), probe).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        for (var i = 1; i < PhoneLookupCaptchaFixture.Threshold; i++)
        {
            var (_, free) = Phones.NewNumber();
            var start = await Client.RegisterAsync(CaptchaFlows.Register(free, null), probe);
            Assert.Equal(RegPhase.InputCode, start.NextPhase);
        }

        var (_, last) = Phones.NewNumber();
        var a = await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(CaptchaFlows.Register(taken, null), probe).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED");
        var b = await CaptchaFlows.RefusedAsync(() => Client.RegisterAsync(CaptchaFlows.Register(last, null), probe).ResponseAsync, "ErrRegister.GENERAL_RECAPTCHA_FAILED");
        CaptchaFlows.AssertAlike(a, b);
        Assert.Empty(fixture.Inbox.MessagesTo(last));

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = a.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        await Errors.ExpectAsync(
            () => Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = a.Token }).ResponseAsync,
            StatusCode.AlreadyExists, "ErrRegister.EXISTING_MEMBER");
        Assert.Single(fixture.Inbox.MessagesTo(taken));

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = b.Token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        var code = await fixture.Inbox.WaitForCodeAsync(last, Phones.Wait);
        var next = await Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = b.Token, PhaseInputCodeValue = code });
        Assert.Equal(RegPhase.InputName, next.NextPhase);
    }

    [Fact]
    public async Task AnotherAddress_IsToldAtOnce_WhileOneThatProbedWaitsForTheCaptcha()
    {
        var probe = From("203.0.113.30");
        var elsewhere = From("198.51.100.30");
        for (var i = 0; i < PhoneLookupCaptchaFixture.Threshold; i++)
        {
            var (_, unknown) = Phones.NewNumber();
            await Errors.ExpectAsync(() => Client.LoginAsync(CaptchaFlows.Login(unknown, null), probe).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        }

        var (_, other) = Phones.NewNumber();
        await CaptchaFlows.RefusedAsync(() => Client.LoginAsync(CaptchaFlows.Login(other, null), probe).ResponseAsync, "ErrLogin.GENERAL_RECAPTCHA_FAILED");

        await Errors.ExpectAsync(() => Client.LoginAsync(CaptchaFlows.Login(other, null), elsewhere).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        var (_, free) = Phones.NewNumber();
        var start = await Client.RegisterAsync(CaptchaFlows.Register(free, null), elsewhere);
        Assert.Equal(RegPhase.InputCode, start.NextPhase);
        Assert.NotEmpty(await fixture.Inbox.WaitForCodeAsync(free, Phones.Wait));
    }
}

/// <summary>
/// Captcha mode risk; an address needs the captcha after <see cref="Threshold"/> lookups in the hour. The SMS risk rules
/// are set out of reach, so only the lookup count can trip the captcha here.
/// </summary>
public abstract class PhoneLookupCaptchaFixture : CaptchaFlowFixture
{
    public const int Threshold = 3;

    protected override string Mode => "risk";

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["Pan:PhoneLookups:CaptchaAfterPerIpPerHour"] = Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["Pan:Sms:Risk:PhonePerHour"] = "100";
            settings["Pan:Sms:Risk:IpPerHour"] = "1000000";
            settings["Pan:Network:TrustedProxies:0"] = "127.0.0.1";
            return settings;
        }
    }
}

public sealed class SqlitePhoneLookupCaptchaFixture : PhoneLookupCaptchaFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresPhoneLookupCaptchaFixture : PhoneLookupCaptchaFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class PhoneLookupCaptchaBehaviour_Sqlite(SqlitePhoneLookupCaptchaFixture f) : PhoneLookupCaptchaBehaviour<SqlitePhoneLookupCaptchaFixture>(f);

public sealed class PhoneLookupCaptchaBehaviour_Postgres(PostgresPhoneLookupCaptchaFixture f) : PhoneLookupCaptchaBehaviour<PostgresPhoneLookupCaptchaFixture>(f);
