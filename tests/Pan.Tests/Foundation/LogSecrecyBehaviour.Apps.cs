using System.Net;
using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.General.Admin;
using Pan.General.Member;
using Pan.Tests.Email;
using Pan.Tests.Guests;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Pan.Tests.OAuth;
using Pan.Tests.Omniauth;
using LeverClient = Pan.Lever.Member.MemberService.MemberServiceClient;

namespace Pan.Tests.Foundation;

/// <summary>The flows between Pan and other apps: OAuth, social login, guests, admins, hand-off, passes, internal SMS.</summary>
public abstract partial class LogSecrecyBehaviour<TFixture>
{
    [Fact]
    public async Task OAuthCodeWithPkce_TokensAndRefresh_NeverReachTheLogs()
    {
        var who = await OAuthTestClient.SignInAsync(Server);
        using var browser = OAuthTestClient.Browser(Server, who);
        var pkce = Pkce.Create();
        Keep(who.AccessToken, pkce.Verifier, fixture.WebSecret);

        var authorize = QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["client_id"] = OAuthFixture.WebClient, ["redirect_uri"] = OAuthFixture.WebRedirect, ["response_type"] = "code",
            ["scope"] = "openid profile email phone offline_access", ["state"] = "st-log", ["nonce"] = "n-log",
            ["code_challenge"] = pkce.Challenge, ["code_challenge_method"] = "S256",
        });
        using var started = await browser.GetAsync(authorize);
        var html = await browser.GetStringAsync(started.Headers.Location!.PathAndQuery);
        using var decided = await browser.PostAsync("/account/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["af"] = Hidden(html, "af"), ["request"] = Hidden(html, "request"), ["decision"] = "approve", ["remember"] = "false",
        }));
        using var finished = await browser.GetAsync(decided.Headers.Location!);
        var code = OAuthTestClient.Param(finished.Headers.Location!, "code");
        Assert.NotEmpty(code);
        var (status, tokens) = await OAuthTestClient.PostFormAsync(Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        var (access, refresh, idToken) = (tokens.GetProperty("access_token").GetString()!, tokens.GetProperty("refresh_token").GetString()!, tokens.GetProperty("id_token").GetString()!);
        using var userInfo = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo") { Headers = { Authorization = new("Bearer", access) } };
        using var claims = await Server.Http.SendAsync(userInfo);
        Assert.Equal(HttpStatusCode.OK, claims.StatusCode);
        var (_, introspected) = await OAuthTestClient.PostFormAsync(Server, "/connect/introspect", new Dictionary<string, string>
        {
            ["token"] = access, ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });
        Assert.True(introspected.GetProperty("active").GetBoolean());
        var (refreshed, renewed) = await OAuthTestClient.PostFormAsync(Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });
        Assert.Equal(HttpStatusCode.OK, refreshed);
        await OAuthTestClient.PostFormAsync(Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = "wrong-" + fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        });

        Keep(Hidden(html, "request"));

        // Signing out at /connect/endsession without an ID token hint: the question's confirmation token, then its post.
        var logout = new Dictionary<string, string> { ["client_id"] = OAuthFixture.WebClient, ["post_logout_redirect_uri"] = "https://app.example.test/bye", ["state"] = "st-logout" };
        var question = await browser.GetStringAsync(QueryHelpers.AddQueryString("/connect/endsession", logout!));
        var confirmation = Hidden(question, "pan_logout");
        using var signedOut = await browser.PostAsync("/connect/endsession", new FormUrlEncodedContent(new Dictionary<string, string>(logout) { ["pan_logout"] = confirmation }));
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Keep(confirmation, Uri.UnescapeDataString(confirmation));
        Keep(code, access, refresh, idToken, renewed.GetProperty("access_token").GetString(), renewed.GetProperty("refresh_token").GetString(), who.Member.Email);
        AssertNoneLogged();
    }

    [Theory]
    [InlineData("facebook")]
    [InlineData("google_oauth2")]
    [InlineData("twitter")]
    [InlineData("linkedin")]
    [InlineData("microsoft_graph")]
    public async Task SocialLogin_AndItsRefresh_NeverReachTheLogs(string provider)
    {
        var user = SocialUsers.New();
        var login = fixture.Providers.SignIn(provider, user);
        var secret = fixture.SecretOf(LogSecrecyFixture.EmailApp);
        Keep(login.Token, login.Secret, secret, user.Email, FakeSocialProviders.FacebookAppSecret, FakeSocialProviders.LinkedInClientSecret, FakeSocialProviders.TwitterConsumerSecret);

        var (status, body, _) = await OmniauthFixture.PostAsync(Server, "through_omniauth", new Dictionary<string, string?>
        {
            ["client_id"] = LogSecrecyFixture.EmailApp, ["client_secret"] = secret, ["provider"] = login.Provider,
            ["omniauth_token"] = login.Token, ["omniauth_secret"] = login.Secret, ["bundle_id"] = login.BundleId,
        }, form: provider == "facebook");
        Assert.Equal(200, status);
        var data = body.GetProperty("data");
        var (refreshStatus, refreshed, _) = await OmniauthFixture.PostAsync(Server, "refresh_token", new Dictionary<string, string?>
        {
            ["client_id"] = LogSecrecyFixture.EmailApp, ["client_secret"] = secret, ["refresh_token"] = data.GetProperty("refresh_token").GetString(),
        });
        Assert.Equal(200, refreshStatus);

        Keep(data.GetProperty("access_token").GetString(), data.GetProperty("refresh_token").GetString(),
            refreshed.GetProperty("data").GetProperty("access_token").GetString(), refreshed.GetProperty("data").GetProperty("refresh_token").GetString());
        AssertNoneLogged();
    }

    [Fact]
    public async Task GuestsConvertedAndActivatedByMailAndBySms_NeverReachTheLogs()
    {
        var byMail = new ApinodeClient(Server, LogSecrecyFixture.EmailApp, fixture.SecretOf(LogSecrecyFixture.EmailApp));
        var bySms = new ApinodeClient(Server, LogSecrecyFixture.SmsApp, fixture.SecretOf(LogSecrecyFixture.SmsApp));
        Keep(fixture.SecretOf(LogSecrecyFixture.EmailApp), fixture.SecretOf(LogSecrecyFixture.SmsApp));

        var temp = await byMail.CreateTempAsync();
        var address = Mailboxes.NewAddress();
        var passwd = ApinodeClient.ClientHash();
        Keep(temp.Token, passwd);
        var converted = await byMail.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = passwd, ["passwd2"] = passwd }, temp.Token);
        Assert.Equal(0, converted.Code);
        Keep(converted.Value.GetProperty("actID").GetString());
        var link = GuestActivationLink().Match((await fixture.Smtp.WaitForMessageAsync(address)).TextBody ?? string.Empty);
        Assert.Equal(0, (await ApinodeClient.SendAsync(Server.Http, new HttpRequestMessage(HttpMethod.Get, link.Value))).Code);
        var signedIn = await byMail.CallAsync("login", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = passwd }, send: Send.Query);
        Assert.Equal(0, signedIn.Code);
        Keep(signedIn.Token, link.Groups[1].Value, Uri.UnescapeDataString(link.Groups[1].Value));
        Assert.Equal(0, (await byMail.CallAsync("logout", token: signedIn.Token)).Code);

        var smsTemp = await bySms.CreateTempAsync();
        var (national, e164) = PhoneFlows.Phones.NewNumber();
        Keep(smsTemp.Token);
        Assert.Equal(0, (await bySms.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = passwd }, smsTemp.Token, Send.Form)).Code);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlows.Phones.Wait);
        var activated = await ApinodeClient.SendAsync(Server.Http, new HttpRequestMessage(HttpMethod.Get, "/admin/user/activate/" + Uri.EscapeDataString($"{code}@{national}")));
        Assert.Equal(0, activated.Code);
        var smsLogin = await bySms.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd }, send: Send.Query);
        Assert.Equal(0, smsLogin.Code);

        Keep(smsLogin.Token);
        KeepPhone(e164);
        KeepMail(address);
        AssertNoneLogged();
    }

    [Fact]
    public async Task AdminCalls_HandOff_Passes_AndInternalSms_NeverReachTheLogs()
    {
        var forumSecret = fixture.SecretOf(LogSecrecyFixture.EmailApp);
        var postSecret = fixture.SecretOf(LogSecrecyFixture.SmsApp);
        Keep(forumSecret, postSecret, LogSecrecyFixture.InternalKey, LogSecrecyFixture.SmsWebhookAuthorization);
        var (admin, adminToken) = await SignInAdminAsync("staff-log@example.com");
        var member = await mail.RegisterAsync();
        Keep(member.AuthToken, member.AccessToken);
        var password = Mailboxes.StrongPassword();
        var address = Mailboxes.NewAddress();
        Keep(password);
        await admin.ChangeMemberPasswordAsync(new ChangeMemberPasswordRequest { AdminToken = adminToken, Uid = member.Uid, Password = password });
        await admin.ChangeMemberEmailAsync(new ChangeMemberEmailRequest { AdminToken = adminToken, Uid = member.Uid, Email = address });

        // Hand-off from the forum to the post app, finished by the post app's back end with the internal key.
        var access = await mail.Phones.AccessTokenAsync(await mail.Phones.LoginAsync(member.E164));
        var made = await Client.MakeLoginTokenAsync(
            new MakeLoginTokenRequest { AppId = LogSecrecyFixture.EmailApp, AppSecret = forumSecret, AuthUrl = $"https://{LogSecrecyFixture.ForumHost}/sso?x=1" },
            new Metadata { { "authorization", "Bearer " + access } });
        await Client.ValidateLoginTokenAsync(new ValidateLoginTokenRequest { LoginToken = made.LoginToken, AppId = LogSecrecyFixture.SmsApp, AppSecret = postSecret });
        var lever = new LeverClient(Server.Grpc);
        var internalKey = new Metadata { { "x-pan-internal-key", LogSecrecyFixture.InternalKey } };
        var handedOff = await lever.AuthTokenAsync(new Pan.Lever.Member.AuthTokenRequest { Uid = member.Uid, LoginToken = made.LoginToken }, internalKey);
        Keep(access, made.LoginToken, handedOff.AuthToken);

        // The member pass, scanned by the post app.
        var pass = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = access });
        await Client.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = pass.PassportToken },
            new Metadata { { "x-pan-app-id", LogSecrecyFixture.SmsApp }, { "x-pan-app-secret", postSecret } });
        Keep(pass.PassportToken);

        // Internal SendSMS to the member's phone.
        var objectId = (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.ObjectId;
        await lever.SendSMSAsync(new Pan.Lever.Member.SendSMSRequest { ObjectId = objectId, Text = "Your parcel is at the desk" }, internalKey);
        Assert.Equal("Your parcel is at the desk", fixture.Inbox.MessagesTo(member.E164)[^1].Text);
        Assert.Equal(LogSecrecyFixture.SmsWebhookAuthorization, fixture.Inbox.MessagesTo(member.E164)[^1].Authorization);

        KeepPhone(member.E164);
        KeepMail(address);
        AssertNoneLogged();
    }

    /// <summary>
    /// A Google account that is not on the admin allow-list (anyone's, a member's too) is refused and audited; log lines
    /// name its address, and a staff member's, by the domain only (the audit row keeps it whole).
    /// </summary>
    [Fact]
    public async Task AGoogleSignInOfANonAdmin_AndAnAdminsActions_NameTheAddressesByTheirDomainOnly()
    {
        const string Stranger = "stranger-log@example.com", Staff = "staff-domain-log@example.com";
        var strangerToken = fixture.Google.Issue(Stranger);
        var refused = await Assert.ThrowsAsync<RpcException>(
            () => new AdminService.AdminServiceClient(Server.Grpc).GoogleLoginAsync(new GoogleLoginRequest { AccessToken = strangerToken }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        var (admin, adminToken) = await SignInAdminAsync(Staff);
        var member = await mail.RegisterAsync();
        Keep(member.AuthToken, member.AccessToken);
        await admin.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = adminToken, Uid = member.Uid });

        // The refusal and the suspension were audited (else this test proves nothing), with the whole addresses.
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Pan.Data.PanDbContext>();
            Assert.True(await db.Database.SqlQuery<int>($"SELECT 1 AS \"Value\" FROM audit_log WHERE actor = {Stranger}").AnyAsync());
            Assert.True(await db.Database.SqlQuery<int>($"SELECT 1 AS \"Value\" FROM audit_log WHERE actor = {Staff} AND action = 'admin.suspend-member'").AnyAsync());
        }

        Keep(strangerToken, Stranger, Staff);
        AssertNoneLogged();
        Assert.Contains(fixture.Logs.Lines, l => l.Contains("…@example.com", StringComparison.Ordinal));
    }

    /// <summary>
    /// An admin action that fails inside Pan logs its target; for a phone block that target is the number, which must
    /// reach the log only as its last digits (the audit row keeps it whole).
    /// </summary>
    [Fact]
    public async Task AFailedPhoneBlock_LogsTheNumberOnlyByItsLastDigits()
    {
        var (admin, adminToken) = await SignInAdminAsync("staff-block-log@example.com");
        var e164 = "+8869" + Random.Shared.Next(0, 90_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
        var before = fixture.Logs.Lines.Count;

        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "blocked_phones", TriggeredWrite.Insert))
        {
            Assert.Equal(StatusCode.Internal, (await Assert.ThrowsAsync<RpcException>(
                () => admin.BlockPhoneAsync(new BlockPhoneRequest { AdminToken = adminToken, Phone = e164, Reason = "pumping" }).ResponseAsync)).StatusCode);
        }

        // The failure was logged (else this test proves nothing), with the number's last digits only.
        Assert.Contains(fixture.Logs.Lines.Skip(before), l => l.Contains("admin.block-phone", StringComparison.Ordinal) && l.Contains("…" + e164[^3..], StringComparison.Ordinal));
        KeepPhone(e164);
        AssertNoneLogged();
    }

    /// <summary>
    /// When the audit line itself is refused, the action rolls back and Pan logs that it could not write the line: that
    /// error line names the target too, and a phone block's target is the number, which must show only its last digits.
    /// </summary>
    [Fact]
    public async Task APhoneBlockWhoseAuditLineIsRefused_LogsTheNumberOnlyByItsLastDigits()
    {
        var (admin, adminToken) = await SignInAdminAsync("staff-audit-log@example.com");
        var e164 = "+8869" + Random.Shared.Next(0, 90_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
        var before = fixture.Logs.Lines.Count;

        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'admin.block-phone'"))
        {
            await Assert.ThrowsAsync<RpcException>(
                () => admin.BlockPhoneAsync(new BlockPhoneRequest { AdminToken = adminToken, Phone = e164, Reason = "pumping" }).ResponseAsync);
        }

        // The lost line was logged (else this test proves nothing), with the number's last digits only.
        var lost = Assert.Single(fixture.Logs.Lines.Skip(before), l => l.Contains("Could not write the audit entry", StringComparison.Ordinal));
        KeepPhone(e164);
        AssertNoneLogged();
        Assert.Contains("phone:…" + e164[^3..], lost, StringComparison.Ordinal);
    }

    /// <summary>Adds <paramref name="address"/> to the admin allow-list and signs it in; its Google and admin tokens are kept as secrets.</summary>
    private async Task<(AdminService.AdminServiceClient Admin, string Token)> SignInAdminAsync(string address)
    {
        var googleToken = fixture.Google.Issue(address);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<Pan.Server.Admin.AdminDirectory>().AddOrUpdateAsync(address, "member-admin", default);
        }

        var admin = new AdminService.AdminServiceClient(Server.Grpc);
        var token = (await admin.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = googleToken })).AdminToken;
        Keep(googleToken, token);
        return (admin, token);
    }

    private static string Hidden(string html, string name) =>
        WebUtility.HtmlDecode(HiddenInput().Matches(html).First(m => m.Groups["name"].Value == name).Groups["value"].Value);

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex HiddenInput();

    [GeneratedRegex(@"https?://\S+/admin/user/activate/([A-Za-z0-9_\-%]+)", RegexOptions.CultureInvariant)]
    private static partial Regex GuestActivationLink();
}
