using System.Net;
using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Pan.General.Member;
using Pan.Oauth;
using Pan.Server.Metrics;
using Pan.Tests.Email;
using Pan.Tests.Foundation;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Pan.Tests.OAuth;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;

namespace Pan.Tests.Metrics;

/// <summary>
/// The Prometheus scrape on the metrics listener (<c>Pan:Metrics:Url</c>): Pan's counters move by exactly what a flow
/// did, with its labels; the scrape holds no phone, email, uid, token or client address (SECURITY 16); the public
/// listener does not answer <c>/metrics</c>.
/// </summary>
public abstract partial class MetricsBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
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
    public async Task AnEmailRefusedByTheCooldown_IsCountedAsCapped_WithItsCap()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        await mail.MailAsync(address);
        var before = await fixture.ScrapeAsync();

        await Errors.ExpectAsync(
            () => Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken }, Forwarded).ResponseAsync,
            StatusCode.ResourceExhausted, "SendEmailVerificationResponse.ErrReachSendLimit");

        var after = await fixture.ScrapeAsync();
        Assert.Equal(1, Delta(before, after, "pan_email_sends_total", ("outcome", "capped"), ("cap", "cooldown")));
        Assert.Equal(1, Delta(before, after, "pan_email_sends_total", ("outcome", "capped")));
        AssertOnlyWords(after, member, address, address.ToLowerInvariant(), address.Split('@')[1].ToLowerInvariant());
    }

    [Fact]
    public async Task ConsentDecisions_OverGrpcAndOnThePage_AreCountedOnceEach_ByDecisionAndWay()
    {
        var consent = new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc);
        var approver = await OAuthTestClient.SignInAsync(fixture.Server);
        var refuser = await OAuthTestClient.SignInAsync(fixture.Server);
        var pageApprover = await OAuthTestClient.SignInAsync(fixture.Server);
        var pageRefuser = await OAuthTestClient.SignInAsync(fixture.Server);
        var before = await fixture.ScrapeAsync();

        // ConsentProcess: approved and remembered, then spared the screen by the remembered consent; another member refuses.
        var approved = await OAuthTestClient.ConsentAsync(fixture.Server, approver, WebRequest(approver), remember: true);
        Assert.NotEmpty(OAuthTestClient.Param(approved, "code"));
        var again = await consent.DoAsync(WebRequest(approver));
        Assert.False(again.ConsentRequired);
        var started = await consent.DoAsync(WebRequest(refuser));
        var rejected = await consent.RejectAsync(new RejectRequest { RequestId = started.RequestId, PanAccessToken = refuser.AccessToken });
        Assert.Equal("access_denied", OAuthTestClient.Param(new Uri(rejected.RedirectUri), "error"));
        // A request that is not open decides nothing.
        await Errors.ExpectAsync(() => consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = refuser.AccessToken }).ResponseAsync,
            StatusCode.NotFound, "REQUEST_INVALID");

        // The consent page: approved and remembered, then the next authorization skips the page; another member refuses.
        using (var browser = OAuthTestClient.Browser(fixture.Server, pageApprover))
        {
            Assert.NotEmpty(OAuthTestClient.Param(await DecideOnThePageAsync(browser, "approve"), "code"));
            using var skipped = await browser.GetAsync(AuthorizeUrl());
            Assert.NotEmpty(OAuthTestClient.Param(skipped.Headers.Location!, "code"));
        }

        using (var browser = OAuthTestClient.Browser(fixture.Server, pageRefuser))
        {
            Assert.Equal("access_denied", OAuthTestClient.Param(await DecideOnThePageAsync(browser, "reject"), "error"));
        }

        var after = await fixture.ScrapeAsync();
        foreach (var via in new[] { "grpc", "browser" })
        {
            Assert.Equal(1, Delta(before, after, "pan_oauth_consents_total", ("decision", "approved"), ("via", via)));
            Assert.Equal(1, Delta(before, after, "pan_oauth_consents_total", ("decision", "remembered"), ("via", via)));
            Assert.Equal(1, Delta(before, after, "pan_oauth_consents_total", ("decision", "denied"), ("via", via)));
        }

        Assert.Equal(6, Delta(before, after, "pan_oauth_consents_total"));
        foreach (var who in new[] { approver, refuser, pageApprover, pageRefuser })
        {
            Assert.DoesNotContain(who.AccessToken, after.Text, StringComparison.Ordinal);
            Assert.DoesNotContain(who.Member.ObjectId.ToString(), after.Text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(OAuthFixture.WebClient, after.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(started.RequestId, after.Text, StringComparison.Ordinal);
        Assert.All(after.LabelValues("pan_"), v => Assert.Matches("^[a-z_]+$", v));
    }

    [Fact]
    public async Task AnApproval_WhoseCodeFailsToStore_IsNotCounted_AndTheSameApprovalThenCountsOnce()
    {
        var who = await OAuthTestClient.SignInAsync(fixture.Server);
        var consent = new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc);
        var started = await consent.DoAsync(WebRequest(who));
        var approve = new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken, Remember = true };
        var before = await fixture.ScrapeAsync();

        // The last write of the approval's /connect/authorize: the update of the code's entry.
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "oauth_tokens", TriggeredWrite.Update, "OLD.\"Type\" LIKE '%authorization_code'"))
        {
            await HalfWrittenChecks.ExpectInternalAsync(() => consent.ApproveAsync(approve).ResponseAsync);
        }

        var failed = await fixture.ScrapeAsync();
        Assert.Equal(0, Delta(before, failed, "pan_oauth_consents_total"));

        await consent.ApproveAsync(approve);
        Assert.Equal(1, Delta(failed, await fixture.ScrapeAsync(), "pan_oauth_consents_total", ("decision", "approved"), ("via", "grpc")));
    }

    [Fact]
    public async Task APhoneSignIn_WhoseSessionFailsToOpen_CountsNoAcceptedCodeNorSignIn_AndItsRetryCountsOnce()
    {
        var member = await mail.RegisterAsync();
        var start = await Client.LoginAsync(LoginStart(LoginType.Phone, member.E164), Forwarded);
        var code = await fixture.Inbox.WaitForCodeAsync(member.E164, PhoneFlows.Phones.Wait);
        var submit = Input(LoginType.Phone, start.PhaseSessionToken, code);
        var before = await fixture.ScrapeAsync();

        // The last write of INPUT_CODE: the auth session's row, after the UPDATE that accepts the code.
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "auth_sessions", TriggeredWrite.Insert, member.Uid))
        {
            await HalfWrittenChecks.ExpectInternalAsync(() => Client.LoginAsync(submit, Forwarded).ResponseAsync);
        }

        var failed = await fixture.ScrapeAsync();
        Assert.Equal(0, Delta(before, failed, "pan_codes_verifications_total", ("outcome", "accepted")));
        Assert.Equal(0, Delta(before, failed, "pan_tokens_issued_total", ("kind", "auth")));
        Assert.Equal(0, Delta(before, failed, "pan_sign_ins_total", ("outcome", "ok")));

        Assert.Equal(LoginPhase.Done, (await Client.LoginAsync(submit, Forwarded)).NextPhase);
        var after = await fixture.ScrapeAsync();
        Assert.Equal(1, Delta(failed, after, "pan_codes_verifications_total", ("outcome", "accepted")));
        Assert.Equal(1, Delta(failed, after, "pan_tokens_issued_total", ("kind", "auth")));
        Assert.Equal(1, Delta(failed, after, "pan_sign_ins_total", ("method", "phone"), ("outcome", "ok")));
    }

    [Fact]
    public async Task AnOAuthCodeExchange_WhoseLastWriteFails_CountsNoSignInNorToken_AndItsRetryCountsOnce()
    {
        var member = await mail.RegisterAsync();
        var app = new OAuthWebApp(fixture);
        var code = await app.CodeAsync(member.AccessToken, remember: true);
        var before = await fixture.ScrapeAsync();

        // The last write of the exchange: the ID token's entry.
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "oauth_tokens", TriggeredWrite.Insert, "NEW.\"Type\" LIKE '%id_token'"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, (await app.ExchangeAsync(code)).Status);
        }

        var failed = await fixture.ScrapeAsync();
        Assert.Equal(0, Delta(before, failed, "pan_sign_ins_total", ("method", "oauth")));
        Assert.Equal(0, Delta(before, failed, "pan_tokens_issued_total", ("kind", "oauth_code")));

        Assert.Equal(HttpStatusCode.OK, (await app.ExchangeAsync(code)).Status);
        var after = await fixture.ScrapeAsync();
        Assert.Equal(1, Delta(failed, after, "pan_sign_ins_total", ("method", "oauth"), ("outcome", "ok")));
        Assert.Equal(1, Delta(failed, after, "pan_tokens_issued_total", ("kind", "oauth_code")));
    }

    /// <summary>
    /// An access token saved without a transaction of the caller's (AccessToken) counts when its row is stored: a save
    /// that fails counts nothing, and the retry that stores it counts once. Before, it counted when staged.
    /// </summary>
    [Fact]
    public async Task AnAccessToken_WhoseSaveFails_IsNotCounted_AndItsRetryCountsOnce()
    {
        var member = await mail.RegisterAsync();
        var request = new AccessTokenRequest { AuthToken = member.AuthToken, AppId = "jkforum" };
        var before = await fixture.ScrapeAsync();

        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "access_tokens", TriggeredWrite.Insert, member.Uid))
        {
            await HalfWrittenChecks.ExpectInternalAsync(() => Client.AccessTokenAsync(request).ResponseAsync);
        }

        var failed = await fixture.ScrapeAsync();
        Assert.Equal(0, Delta(before, failed, "pan_tokens_issued_total", ("kind", "access")));

        Assert.NotEmpty((await Client.AccessTokenAsync(request)).AccessToken);
        Assert.Equal(1, Delta(failed, await fixture.ScrapeAsync(), "pan_tokens_issued_total", ("kind", "access")));
    }

    /// <summary>
    /// An email sign-in's CHECK_EXISTENCE refused by <c>Pan:Email:Limits:LookupsPerIpPerHour</c> is counted with Pan's
    /// other email caps: <c>pan_email_sends_total{outcome="capped",cap="lookup_ip_hour"}</c>. Before, it was not counted.
    /// </summary>
    [Fact]
    public async Task AnEmailLookupRefusedByItsCap_IsCountedAsCapped_WithItsCap()
    {
        var member = await mail.RegisterAsync();
        var port = MetricsFixture.FreePort();
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:Email:Limits:LookupsPerIpPerHour"] = "1",
            ["Pan:Metrics:Url"] = $"http://127.0.0.1:{port}",
        });
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var here = new Uri($"http://127.0.0.1:{port}");
        var from = "203.0.113." + Random.Shared.Next(1, 255).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var forwarded = new Metadata { { "X-Forwarded-For", from } };
        var before = await MetricsFixture.ScrapeAsync(here);

        await client.LoginAsync(LoginStart(LoginType.Email, member.Name), forwarded);
        await Errors.ExpectAsync(() => client.LoginAsync(LoginStart(LoginType.Email, member.Name), forwarded).ResponseAsync,
            StatusCode.ResourceExhausted, "ErrLogin.CODE_PENDING_10");

        var after = await MetricsFixture.ScrapeAsync(here);
        Assert.Equal(1, Delta(before, after, "pan_email_sends_total", ("outcome", "capped"), ("cap", "lookup_ip_hour")));
        Assert.Equal(1, Delta(before, after, "pan_email_sends_total"));
        Assert.Equal(1, Delta(before, after, "pan_lookups_refused_total", ("kind", "email")));
        Assert.Equal(1, Delta(before, after, "pan_lookups_refused_total"));
        AssertOnlyWords(after, member, from);
    }

    /// <summary>
    /// The phone lookup cap (<c>Pan:PhoneLookups:PerIpPerHour</c>, Login's and Register's check-existence) and the guest
    /// name lookup cap (<c>Pan:Guests:NameLookupsPerIpPerHour</c>, apinode's accNameOk and convertTemp) are counted when
    /// they refuse, by kind, in <c>pan_lookups_refused_total</c>. Before, neither refusal was counted anywhere.
    /// </summary>
    [Fact]
    public async Task PhoneAndGuestNameLookupsRefusedByTheirCaps_AreCountedByKind()
    {
        const string appId = "jktank";
        var added = await PanCli.RunAsync(fixture.Database, "apps", "add", appId, "--name", appId);
        Assert.True(added.ExitCode == 0, added.Error);
        var settings = await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", appId, "--account-name", "name", "--activation", "none");
        Assert.True(settings.ExitCode == 0, settings.Error);
        var port = MetricsFixture.FreePort();
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:PhoneLookups:PerIpPerHour"] = "1",
            ["Pan:Guests:NameLookupsPerIpPerHour"] = "1",
            ["Pan:Metrics:Url"] = $"http://127.0.0.1:{port}",
        });
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var apinode = new Pan.Tests.Guests.ApinodeClient(node, appId, PanCli.Secret(added));
        var here = new Uri($"http://127.0.0.1:{port}");
        var from = "203.0.113." + Random.Shared.Next(1, 255).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var forwarded = new Metadata { { "X-Forwarded-For", from } };
        var headers = new Dictionary<string, string> { ["X-Forwarded-For"] = from };
        var (_, unknown) = PhoneFlows.Phones.NewNumber();
        var before = await MetricsFixture.ScrapeAsync(here);

        await Errors.ExpectAsync(() => client.LoginAsync(LoginStart(LoginType.Phone, unknown), forwarded).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        await Errors.ExpectAsync(() => client.LoginAsync(LoginStart(LoginType.Phone, unknown), forwarded).ResponseAsync,
            StatusCode.ResourceExhausted, "ErrLogin.CODE_PENDING_10");
        var name = new Dictionary<string, string> { ["accName"] = "lookup" + Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        Assert.Equal(0, (await apinode.CallAsync("accNameOk", name, headers: headers)).Code);
        Assert.Equal(13, (await apinode.CallAsync("accNameOk", name, headers: headers)).Code);

        var after = await MetricsFixture.ScrapeAsync(here);
        Assert.Equal(1, Delta(before, after, "pan_lookups_refused_total", ("kind", "phone")));
        Assert.Equal(1, Delta(before, after, "pan_lookups_refused_total", ("kind", "guest_name")));
        Assert.Equal(2, Delta(before, after, "pan_lookups_refused_total"));
        Assert.Equal(0, Delta(before, after, "pan_sms_sends_total"));
        Assert.DoesNotContain(from, after.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(unknown, after.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGuestDeletingItselfThroughApinode_IsCountedAsTheDeletionOfItsMemberAndAccount()
    {
        const string appId = "jkfstar";
        var added = await PanCli.RunAsync(fixture.Database, "apps", "add", appId, "--name", appId);
        Assert.True(added.ExitCode == 0, added.Error);
        var settings = await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", appId, "--account-name", "name", "--activation", "none");
        Assert.True(settings.ExitCode == 0, settings.Error);
        var apinode = new Pan.Tests.Guests.ApinodeClient(fixture.Server, appId, PanCli.Secret(added));
        var before = await fixture.ScrapeAsync();

        var temp = await apinode.CreateTempAsync();
        var delToken = (await apinode.CallAsync("deleteVerify", token: temp.Token)).Value.GetProperty("delToken").GetString()!;
        Assert.Equal(0, (await apinode.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = delToken }, temp.Token)).Code);

        var after = await fixture.ScrapeAsync();
        Assert.Equal(1, Delta(before, after, "pan_registrations_total", ("kind", "guest")));
        Assert.Equal(1, Delta(before, after, "pan_deletions_total", ("kind", "member")));
        Assert.Equal(1, Delta(before, after, "pan_deletions_total", ("kind", "account")));
        Assert.Equal(2, Delta(before, after, "pan_deletions_total"));
        foreach (var secret in new[] { temp.Token, delToken, appId })
        {
            Assert.DoesNotContain(secret, after.Text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(after.LabelValues("pan_"), v => v == temp.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.All(after.LabelValues("pan_"), v => Assert.Matches("^[a-z_]+$", v));
    }

    [Fact]
    public async Task ThePublicListener_AnswersNotFound_ForMetrics()
    {
        using var response = await fixture.Server.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("pan_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// SECURITY 15: an unknown member costs one Argon2id verification (against a dummy hash); a wrong password against an
    /// imported member's cheap legacy hash (or an unreadable one) must cost the same one, or the answer's timing tells that
    /// the name is a member's. Counted by Pan's own hash counter, not timed.
    /// </summary>
    [Theory]
    [InlineData("pbkdf2-sha1$1000$YXBpbm9kZS1zYWx0LTE2Yg==$E2D7u7/LzAs6Vk9195fOT/u6ezzvG9gsqXskem/h4RA=")]
    [InlineData("md5md5$abc$f24a0e9ce12069c72f77046ad708b655")]
    [InlineData("sha1$not-a-format-pan-reads")]
    public async Task AWrongPassword_ForAMemberWithALegacyHash_CostsOneArgon2idVerification_AsForAnUnknownMember(string legacy)
    {
        var member = await mail.RegisterAsync();
        await Pan.Tests.Credentials.TestCredentials.ImportHashAsync(fixture.Server, member.Uid, legacy);
        async Task<(double Dummy, double Check, double Store)> WrongPasswordAsync(string displayName)
        {
            var before = await fixture.ScrapeAsync();
            await Errors.ExpectAsync(() => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = displayName, Password = "not the password" }).ResponseAsync,
                StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrAuthFailed");
            var after = await fixture.ScrapeAsync();
            return (Delta(before, after, "pan_password_hashes_total", ("use", "dummy")), Delta(before, after, "pan_password_hashes_total", ("use", "check")),
                Delta(before, after, "pan_password_hashes_total", ("use", "store")));
        }

        var unknown = await WrongPasswordAsync(TestMembers.UniqueName("nobody"));
        var known = await WrongPasswordAsync(member.Name);

        Assert.Equal((1d, 0d, 0d), unknown);
        Assert.Equal(unknown, known);
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

    /// <summary>SECURITY 16: the scrape names none of <paramref name="member"/>'s data nor <paramref name="others"/>, and Pan's label values are words.</summary>
    private static void AssertOnlyWords(Scrape after, TestMember member, params string[] others)
    {
        foreach (var secret in others.Concat([member.E164, member.E164.TrimStart('+'), member.E164[4..], member.Name, member.AuthToken, member.AccessToken]))
        {
            Assert.DoesNotContain(secret, after.Text, StringComparison.Ordinal);
        }

        Assert.All(after.LabelValues("pan_"), v => Assert.Matches("^[a-z_]+$", v));
    }

    private static DoRequest WebRequest(SignedIn who) =>
        OAuthTestClient.Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid", Pkce.Create());

    private static string AuthorizeUrl() => QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
    {
        ["client_id"] = OAuthFixture.WebClient, ["redirect_uri"] = OAuthFixture.WebRedirect, ["response_type"] = "code", ["scope"] = "openid",
        ["state"] = "st-" + Guid.NewGuid().ToString("N"), ["nonce"] = "n1", ["code_challenge"] = Pkce.Create().Challenge, ["code_challenge_method"] = "S256",
    });

    /// <summary>Authorizes in <paramref name="browser"/>, decides on the consent page (remembering an approval) and follows the redirect to /connect/authorize; returns where it sends the browser.</summary>
    private static async Task<Uri> DecideOnThePageAsync(HttpClient browser, string decision)
    {
        using var authorize = await browser.GetAsync(AuthorizeUrl());
        var html = await browser.GetStringAsync(authorize.Headers.Location!.PathAndQuery);
        using var decided = await browser.PostAsync("/account/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["request"] = Hidden(html, "request"), ["decision"] = decision, ["remember"] = "true",
        }));
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        using var finished = await browser.GetAsync(decided.Headers.Location!);
        return finished.Headers.Location!;
    }

    private static string Hidden(string html, string name) =>
        WebUtility.HtmlDecode(HiddenInput().Matches(html).First(m => m.Groups["name"].Value == name).Groups["value"].Value);

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex HiddenInput();

    private static string Wrong(string code) => code == "000000" ? "111111" : "000000";

    private static LoginRequest LoginStart(LoginType type, string value) =>
        new() { Phase = LoginPhase.CheckExistence, LoginType = type, PhaseCheckExistenceValue = value };

    private static LoginRequest Input(LoginType type, string session, string value) =>
        new() { Phase = LoginPhase.InputCode, LoginType = type, PhaseSessionToken = session, PhaseInputCodeValue = value };
}

public sealed class MetricsBehaviour_Sqlite(SqliteMetricsFixture f) : MetricsBehaviour<SqliteMetricsFixture>(f);

public sealed class MetricsBehaviour_Postgres(PostgresMetricsFixture f) : MetricsBehaviour<PostgresMetricsFixture>(f);
