using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using Platform = Pan.General.Member.UnlockSessionTokenRequest.Types.Platform;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;

namespace Pan.Tests.PhoneFlows;

/// <summary>With <c>Pan:Captcha:Mode=always</c>, no code leaves before a captcha verified over HTTP unlocks the flow.</summary>
public abstract class CaptchaFlowBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CaptchaFlowFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    [Fact]
    public async Task Register_WithoutCaptcha_IsRecaptchaFailed_AndSendsNothing_UntilUnlocked()
    {
        var (national, e164) = Phones.NewNumber();
        var ex = await Errors.ExpectAsync(
            () => Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national }).ResponseAsync,
            StatusCode.PermissionDenied, "ErrRegister.GENERAL_RECAPTCHA_FAILED");
        var token = ex.Info().Metadata["phase_session_token"];
        Assert.Empty(fixture.Inbox.MessagesTo(e164));

        await Errors.ExpectAsync(
            () => Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = token, PhaseSessionValid = "forged", Platform = Platform.Web }).ResponseAsync,
            StatusCode.PermissionDenied, "ErrUnlockSessionToken.GENERAL_RECAPTCHA_FAILED");
        Assert.Empty(fixture.Inbox.MessagesTo(e164));

        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = token, PhaseSessionValid = fixture.Recaptcha.Accept(), Platform = Platform.Web });
        var code = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        var next = await Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = token, PhaseInputCodeValue = code });
        Assert.Equal(RegPhase.InputName, next.NextPhase);
    }

    [Fact]
    public async Task Register_WithCaptchaInTheRequest_SendsTheCodeAtOnce()
    {
        var (national, e164) = Phones.NewNumber();
        var start = await Client.RegisterAsync(new RegisterRequest
        {
            Phase = RegPhase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            PhaseSessionValid = fixture.Recaptcha.Accept(),
        });
        Assert.Equal(RegPhase.InputCode, start.NextPhase);
        Assert.NotEmpty(await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait));
    }

    [Fact]
    public async Task Unlock_EnterprisePlatform_UsesTheAssessmentsApi()
    {
        var (national, e164) = Phones.NewNumber();
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national }).ResponseAsync);
        var token = ex.Info().Metadata["phase_session_token"];
        await Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest
        {
            PhaseSessionToken = token, PhaseSessionValid = fixture.Recaptcha.Accept(score: 0.9), Platform = Platform.AndroidEnterprise,
        });
        Assert.NotEmpty(await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait));
        Assert.Contains(fixture.Recaptcha.Received, r => r.ProjectId == FakeRecaptchaServer.ProjectId);
    }

    [Fact]
    public async Task ValidatePhone_WithoutCaptcha_IsRecaptchaFailedInItsOwnEnum_AndSendsNothing()
    {
        var (national, e164) = Phones.NewNumber();
        var first = await Phones.PhonelessAccessTokenAsync(fixture.Server, Phones.NewName());
        var second = await Phones.PhonelessAccessTokenAsync(fixture.Server, Phones.NewName());
        var v1 = await Errors.ExpectAsync(
            async () => await Client.ValidatePhoneAsync(new ValidatePhoneRequest
            {
                AccessToken = first, VerifyToken = await Phones.ProofForAsync(fixture.Server, first),
                Phase = ValidatePhoneRequest.Types.Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            }),
            StatusCode.PermissionDenied, "ErrValidatePhone.GENERAL_RECAPTCHA_FAILED");
        var v2 = await Errors.ExpectAsync(
            async () => await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
            {
                AccessToken = second, VerifyToken = await Phones.ProofForAsync(fixture.Server, second),
                Phase = ValidatePhoneV2Request.Types.Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            }),
            StatusCode.PermissionDenied, "ErrValidatePhoneV2.GENERAL_RECAPTCHA_FAILED");

        Assert.All(new[] { v1, v2 }, ex => Assert.NotEmpty(ex.Info().Metadata["phase_session_token"]));
        Assert.Empty(fixture.Inbox.MessagesTo(e164));
    }

    [Fact]
    public async Task Unlock_UnknownSession_IsFailed()
    {
        await Errors.ExpectAsync(
            () => Client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = "nope", PhaseSessionValid = "x" }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrUnlockSessionToken.GENERAL_FAILED");
    }
}

public abstract class CaptchaFlowFixture : PhoneFlowFixture
{
    public FakeRecaptchaServer Recaptcha { get; private set; } = null!;

    /// <summary>The <c>Pan:Captcha:Mode</c> the server runs with.</summary>
    protected virtual string Mode => "always";

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            foreach (var (key, value) in Recaptcha.Settings(Mode))
            {
                settings[key] = value;
            }

            return settings;
        }
    }

    public override async Task InitializeAsync()
    {
        Recaptcha = await FakeRecaptchaServer.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Recaptcha.DisposeAsync();
    }
}

public sealed class SqliteCaptchaFlowFixture : CaptchaFlowFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresCaptchaFlowFixture : CaptchaFlowFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class CaptchaFlowBehaviour_Sqlite(SqliteCaptchaFlowFixture f) : CaptchaFlowBehaviour<SqliteCaptchaFlowFixture>(f);

public sealed class CaptchaFlowBehaviour_Postgres(PostgresCaptchaFlowFixture f) : CaptchaFlowBehaviour<PostgresCaptchaFlowFixture>(f);
