using System.Net;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Pan.General.Member;
using Pan.Server.Metrics;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;

namespace Pan.Tests.Metrics;

/// <summary>
/// The Prometheus scrape on the metrics listener (<c>Pan:Metrics:Url</c>): Pan's counters move by exactly what a flow
/// did, with its labels; the scrape holds no phone, email, uid, token or client address (SECURITY 16); the public
/// listener does not answer <c>/metrics</c>.
/// </summary>
public abstract class MetricsBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : MetricsFixture
{
    private const string From = "198.51.100.23";

    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    private static Metadata Forwarded => new() { { "X-Forwarded-For", From } };

    [SeamFact]
    public async Task PhoneSignIn_WrongCode_AndPasswordSignIn_MoveTheirCountersByExactlyOne()
    {
        var member = await mail.RegisterAsync();
        var password = Mailboxes.StrongPassword();
        await mail.SetCredentialsAsync(member.Uid, password);
        var before = await fixture.ScrapeAsync();

        var start = await Client.LoginAsync(LoginStart(LoginType.Phone, member.E164), Forwarded);
        var code = await fixture.Inbox.WaitForCodeAsync(member.E164, PhoneFlows.Phones.Wait);
        await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Phone, start.PhaseSessionToken, Wrong(code)), Forwarded).ResponseAsync,
            StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        var done = await Client.LoginAsync(Input(LoginType.Phone, start.PhaseSessionToken, code), Forwarded);
        Assert.Equal(LoginPhase.Done, done.NextPhase);

        var byPassword = await Client.LoginAsync(LoginStart(LoginType.Email, member.Name), Forwarded);
        Assert.Equal(LoginPhase.Done, (await Client.LoginAsync(Input(LoginType.Email, byPassword.PhaseSessionToken, password), Forwarded)).NextPhase);

        var after = await fixture.ScrapeAsync();
        Assert.Equal(1, Delta(before, after, "pan_sign_ins_total", ("method", "phone"), ("outcome", "ok")));
        Assert.Equal(1, Delta(before, after, "pan_sign_ins_total", ("method", "phone"), ("outcome", "wrong")));
        Assert.Equal(1, Delta(before, after, "pan_sign_ins_total", ("method", "password"), ("outcome", "ok")));
        Assert.Equal(0, Delta(before, after, "pan_sign_ins_total", ("method", "password"), ("outcome", "wrong")));
        Assert.Equal(3, Delta(before, after, "pan_sign_ins_total"));
        Assert.Equal(1, Delta(before, after, "pan_sms_sends_total", ("outcome", "sent"), ("cap", "none"), ("provider", "webhook")));
        Assert.Equal(1, Delta(before, after, "pan_sms_sends_total"));
        Assert.Equal(1, Delta(before, after, "pan_codes_verifications_total", ("outcome", "wrong")));
        Assert.Equal(1, Delta(before, after, "pan_codes_verifications_total", ("outcome", "accepted")));
        Assert.Equal(2, Delta(before, after, "pan_tokens_issued_total", ("kind", "auth")));

        // ASP.NET Core's request duration and the runtime's meters are published beside Pan's.
        Assert.True(after.Has("http_server_request_duration_seconds_count"), after.Text);
        Assert.Contains("dotnet_gc_", after.Text, StringComparison.Ordinal);
        Assert.Contains("kestrel_", after.Text, StringComparison.Ordinal);

        // SECURITY 16: nothing that names the member, its phone, its tokens or where it called from.
        var secrets = new[]
        {
            member.E164, member.E164.TrimStart('+'), member.E164[4..], member.Name, member.AuthToken, member.AccessToken,
            done.PhaseDoneAuthToken, start.PhaseSessionToken, code, password, From,
        };
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, after.Text, StringComparison.Ordinal);
        }

        // Why only Pan's series for the uid: a small uid is also, say, an HTTP version ("1"); Pan's labels are words.
        Assert.DoesNotContain(after.LabelValues("pan_"), v => v == member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.All(after.LabelValues("pan_"), v => Assert.Matches("^[a-z_]+$", v));
    }

    [Fact]
    public async Task ASignUp_ItsAccessTokenCheck_AndTheDeletionOfItsOnlyMember_AreCountedOnce()
    {
        var before = await fixture.ScrapeAsync();
        var member = await mail.RegisterAsync();
        await mail.DeleteAsync(member);

        var after = await fixture.ScrapeAsync();
        Assert.Equal(1, Delta(before, after, "pan_registrations_total", ("kind", "phone")));
        Assert.Equal(1, Delta(before, after, "pan_registrations_total"));
        Assert.Equal(1, Delta(before, after, "pan_sms_sends_total", ("outcome", "sent")));
        Assert.Equal(1, Delta(before, after, "pan_codes_verifications_total", ("outcome", "accepted")));
        Assert.Equal(1, Delta(before, after, "pan_tokens_issued_total", ("kind", "auth")));
        Assert.Equal(1, Delta(before, after, "pan_tokens_issued_total", ("kind", "access")));
        Assert.Equal(1, Delta(before, after, "pan_tokens_issued_total", ("kind", "verify")));
        // RegisterAsync's ValidateAccessToken and DeleteMember's own check of the caller's token.
        Assert.Equal(2, Delta(before, after, "pan_access_token_validations_total", ("outcome", "valid")));
        Assert.Equal(1, Delta(before, after, "pan_deletions_total", ("kind", "member")));
        Assert.Equal(1, Delta(before, after, "pan_deletions_total", ("kind", "account")));
        Assert.Equal(0, Delta(before, after, "pan_sign_ins_total"));
    }

    [Fact]
    public async Task SmsRefusedByThePhonesHourlyCap_IsCountedWithItsCap_OnTheNodeThatRefusedIt_Only()
    {
        var member = await mail.RegisterAsync();
        var port = MetricsFixture.FreePort();
        // Why 2: the registration's code was the first of the hour; the login on this node sends the second.
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:Sms:Limits:PerPhonePerHour"] = "2",
            ["Pan:Metrics:Url"] = $"http://127.0.0.1:{port}",
        });
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var here = new Uri($"http://127.0.0.1:{port}");
        var mainBefore = await fixture.ScrapeAsync();
        var before = await MetricsFixture.ScrapeAsync(here);

        await client.LoginAsync(LoginStart(LoginType.Phone, member.E164), Forwarded);
        await Errors.ExpectAsync(() => client.LoginAsync(LoginStart(LoginType.Phone, member.E164), Forwarded).ResponseAsync,
            StatusCode.ResourceExhausted, "ErrLogin.CODE_PENDING_10");

        var after = await MetricsFixture.ScrapeAsync(here);
        Assert.Equal(1, Delta(before, after, "pan_sms_sends_total", ("outcome", "sent"), ("cap", "none"), ("provider", "webhook")));
        Assert.Equal(1, Delta(before, after, "pan_sms_sends_total", ("outcome", "capped"), ("cap", "phone_hour"), ("provider", "webhook")));
        Assert.Equal(2, Delta(before, after, "pan_sms_sends_total"));
        Assert.Equal(0, Delta(mainBefore, await fixture.ScrapeAsync(), "pan_sms_sends_total"));
    }

    [Fact]
    public async Task ASendToABlockedNumber_IsCountedAsRefusedForTheBlock()
    {
        var e164 = (await mail.RegisterAsync()).E164;
        await Pan.Tests.Admin.TestPhoneBlocks.BlockAsync(fixture.Server, e164);
        var before = await fixture.ScrapeAsync();

        await Errors.ExpectAsync(() => Client.LoginAsync(LoginStart(LoginType.Phone, e164), Forwarded).ResponseAsync,
            StatusCode.PermissionDenied, "PHONE_BLOCKED");

        var after = await fixture.ScrapeAsync();
        Assert.Equal(1, Delta(before, after, "pan_sms_sends_total", ("outcome", "refused_blocked_phone"), ("cap", "none")));
        Assert.Equal(1, Delta(before, after, "pan_sms_sends_total"));
    }

    [Fact]
    public async Task PasskeySignIns_AreCountedByOutcome()
    {
        var authenticator = new SoftwareAuthenticator(MetricsFixture.PasskeyRpId, MetricsFixture.PasskeyOrigin);
        var member = await TestMembers.CreateAsync(fixture.Server, m => m.DisplayName = TestMembers.UniqueName("pkm"));
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);
        string verify;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            verify = (await scope.ServiceProvider.GetRequiredService<Pan.Server.Tokens.TokenService>()
                .IssueVerifyTokenAsync(member.Uid, Pan.Server.Tokens.VerifyPurposes.AddPasskey, default)).Token;
        }

        var begun = await Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = access, VerifyToken = verify });
        var (credential, json) = authenticator.Create(begun.OptionsJson);
        await Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = access, RegistrationId = begun.RegistrationId, CredentialJson = json });
        var before = await fixture.ScrapeAsync();

        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        await Client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest { SignInId = signIn.SignInId, CredentialJson = authenticator.Get(signIn.OptionsJson, credential) });
        var wrong = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        await Errors.ExpectAsync(() => Client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest
        {
            SignInId = wrong.SignInId, CredentialJson = authenticator.Get(wrong.OptionsJson, credential, fromOrigin: "https://elsewhere.example.test"),
        }).ResponseAsync, StatusCode.PermissionDenied, "FinishPasskeySignInResponse.Error.CredentialRefused");

        var after = await fixture.ScrapeAsync();
        Assert.Equal(1, Delta(before, after, "pan_sign_ins_total", ("method", "passkey"), ("outcome", "ok")));
        Assert.Equal(1, Delta(before, after, "pan_sign_ins_total", ("method", "passkey"), ("outcome", "wrong")));
        Assert.Equal(1, Delta(before, after, "pan_tokens_issued_total", ("kind", "auth")));
    }

    [Fact]
    public async Task ThePublicListener_AnswersNotFound_ForMetrics()
    {
        using var response = await fixture.Server.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("pan_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheMetricsListener_AnswersOnlyMetrics()
    {
        using var http = new HttpClient { BaseAddress = fixture.MetricsUri };
        using var other = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.True(fixture.Server.Services.GetRequiredService<PanMetrics>().IsObserved);
    }

    private static double Delta(Scrape before, Scrape after, string name, params (string, string)[] labels) =>
        after.Value(name, labels) - before.Value(name, labels);

    private static string Wrong(string code) => code == "000000" ? "111111" : "000000";

    private static LoginRequest LoginStart(LoginType type, string value) =>
        new() { Phase = LoginPhase.CheckExistence, LoginType = type, PhaseCheckExistenceValue = value };

    private static LoginRequest Input(LoginType type, string session, string value) =>
        new() { Phase = LoginPhase.InputCode, LoginType = type, PhaseSessionToken = session, PhaseInputCodeValue = value };
}

public sealed class MetricsBehaviour_Sqlite(SqliteMetricsFixture f) : MetricsBehaviour<SqliteMetricsFixture>(f);

public sealed class MetricsBehaviour_Postgres(PostgresMetricsFixture f) : MetricsBehaviour<PostgresMetricsFixture>(f);
