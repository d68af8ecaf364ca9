using System.Net;
using Pan.General.Member;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using Pan.Tests.Pages;
using Pan.Tests.SignInPages;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;

namespace Pan.Tests.Foundation;

/// <summary>The flows a browser or an app drives with a secret typed in: the hosted pages and the email sign-ins.</summary>
public abstract partial class LogSecrecyBehaviour<TFixture>
{
    [Fact]
    public async Task HostedPages_AndTheEmailSignIns_NeverReachTheLogs()
    {
        var member = await mail.RegisterWithEmailAsync();
        Keep(member.AuthToken, member.AccessToken);
        var (password, reset) = (Mailboxes.StrongPassword(), Mailboxes.StrongPassword());
        const string Answer = "Tainan lighthouse 1961";
        Keep(password, reset, Answer, "wrong " + password, "wrong " + Answer);
        await mail.SetCredentialsAsync(member.Uid, password, "First lighthouse?", Answer);

        // The email sign-in by password and security answer, a wrong try first, over gRPC.
        var start = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.CheckExistence, LoginType = LoginType.Email, PhaseCheckExistenceValue = member.Email! });
        Keep(start.PhaseSessionToken);
        await Errors.ExpectAsync(() => Client.LoginAsync(EmailInput(LoginType.Email, start.PhaseSessionToken, "wrong " + password, "wrong " + Answer)).ResponseAsync,
            Grpc.Core.StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        await mail.ClearFailuresAsync(member.Uid);
        var byPassword = await Client.LoginAsync(EmailInput(LoginType.Email, start.PhaseSessionToken, password, Answer));
        Assert.Equal(LoginPhase.Done, byPassword.NextPhase);
        Keep(byPassword.PhaseDoneAuthToken);

        // The email-code sign-in.
        var mailed = fixture.Smtp.MessagesTo(member.Email!).Count;
        var otc = await Client.LoginAsync(new LoginRequest { Phase = LoginPhase.CheckExistence, LoginType = LoginType.EmailOtc, PhaseCheckExistenceValue = member.Email! });
        Keep(otc.PhaseSessionToken);
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, mailed + 1));
        var byCode = await Client.LoginAsync(EmailInput(LoginType.EmailOtc, otc.PhaseSessionToken, code, Answer));
        Assert.Equal(LoginPhase.Done, byCode.NextPhase);
        Keep(code, byCode.PhaseDoneAuthToken);

        // The hosted sign-in pages: by phone and SMS code, and by email, password and answer (a wrong try first).
        using (var browser = new PageClient(Server.HttpUri, "en"))
        {
            var texts = fixture.Inbox.MessagesTo(member.E164).Count;
            var (sent, codeForm) = await SignInFlow.SendPhoneAsync(browser, member.E164);
            sent.Dispose();
            var smsCode = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, texts + 1);
            KeepHiddenFields(codeForm);
            var (signedIn, _) = await SignInFlow.PostAsync(browser, codeForm, [new("code", smsCode)]);
            Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
            KeepCookies(browser);
        }

        using (var browser = new PageClient(Server.HttpUri, "en"))
        {
            using var page = await browser.GetAsync(new Uri("/account/sign-in-email?returnUrl=%2Fhealthz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var (asked, askedHtml) = await SignInFlow.PostAsync(browser, await page.Content.ReadAsStringAsync(), [new("identifier", member.Email!), new("password", password)]);
            Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
            var (wrong, wrongHtml) = await SignInFlow.PostAsync(browser, askedHtml, [new("password", password), new("answer", "wrong " + Answer)]);
            Assert.NotEqual(HttpStatusCode.SeeOther, wrong.StatusCode);
            await mail.ClearFailuresAsync(member.Uid);
            var (done, _) = await SignInFlow.PostAsync(browser, wrongHtml, [new("password", password), new("answer", Answer)]);
            Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
            KeepHiddenFields(askedHtml);
            KeepCookies(browser);
        }

        // The hosted reset page: the mailed link, a refused form, then the new password with the answer.
        mailed = fixture.Smtp.MessagesTo(member.Email!).Count;
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var link = SmtpInbox.LinkOf(await mail.MailAsync(member.Email!, mailed + 1), "/account/reset-password");
        using (var browser = new PageClient(Server.HttpUri, "en"))
        {
            using var form = await browser.GetAsync(link);
            Assert.Equal(HttpStatusCode.OK, form.StatusCode);
            var html = await form.Content.ReadAsStringAsync();
            KeepHiddenFields(html);
            foreach (var (first, confirm, answer, expected) in new[] { (reset, "wrong " + password, Answer, HttpStatusCode.BadRequest), (reset, reset, Answer, HttpStatusCode.OK) })
            {
                using var posted = await browser.PostFormAsync(new Uri(link, PageClient.Action(html)),
                [
                    new("af", PageClient.Hidden(html, "af")), new("token", PageClient.Hidden(html, "token")),
                    new("password", first), new("confirm_password", confirm), new("answer", answer),
                ]);
                Assert.Equal(expected, posted.StatusCode);
                html = await posted.Content.ReadAsStringAsync();
            }
        }

        KeepPhone(member.E164);
        KeepMail(member.Email!);
        AssertNoneLogged();
    }

    /// <summary>Every hidden form field's value (antiforgery tokens, flow state), and every cookie the browser holds.</summary>
    private void KeepHiddenFields(string html) =>
        Keep([.. System.Text.RegularExpressions.Regex.Matches(html, "<input type=\"hidden\" name=\"[^\"]*\" value=\"([^\"]*)\">")
            .Select(m => WebUtility.HtmlDecode(m.Groups[1].Value))]);

    private void KeepCookies(PageClient browser) =>
        Keep([.. browser.CookieHeader().Split("; ").Select(c => c[(c.IndexOf('=') + 1)..])]);

    private static LoginRequest EmailInput(LoginType type, string session, string value, string? answer) =>
        new() { Phase = LoginPhase.InputCode, LoginType = type, PhaseSessionToken = session, PhaseInputCodeValue = value, PhaseInputCodeQuesValue = answer ?? string.Empty };
}

/// <summary>Passkeys: the step-up that adds one, the ceremonies' ids, the sign-in's tokens, and a refused replay.</summary>
public abstract partial class LogSecrecyBehaviour<TFixture>
{
    [Fact]
    public async Task Passkeys_TheirCeremoniesAndSignIns_NeverReachTheLogs()
    {
        var authenticator = new SoftwareAuthenticator(LogSecrecyFixture.PasskeyRpId, LogSecrecyFixture.PasskeyOrigin);
        var member = await mail.RegisterAsync();
        var verify = await mail.IssueVerifyTokenAsync(member.Uid, Pan.Server.Tokens.VerifyPurposes.AddPasskey);
        Keep(member.AuthToken, member.AccessToken, verify);

        var begun = await Client.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = member.AccessToken, VerifyToken = verify });
        var (credential, json) = authenticator.Create(begun.OptionsJson);
        await Client.FinishPasskeyRegistrationAsync(new FinishPasskeyRegistrationRequest { AccessToken = member.AccessToken, RegistrationId = begun.RegistrationId, CredentialJson = json, Name = "Log probe key" });
        Keep(begun.RegistrationId);

        var signIn = await Client.BeginPasskeySignInAsync(new BeginPasskeySignInRequest());
        var assertion = authenticator.Get(signIn.OptionsJson, credential);
        var signedIn = await Client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest { SignInId = signIn.SignInId, CredentialJson = assertion });
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(
            () => Client.FinishPasskeySignInAsync(new FinishPasskeySignInRequest { SignInId = signIn.SignInId, CredentialJson = assertion }).ResponseAsync);
        var access = (await Client.AccessTokenAsync(new AccessTokenRequest { AuthToken = signedIn.AuthToken, AppId = "jkforum" })).AccessToken;
        Keep(signIn.SignInId, signedIn.AuthToken, access);

        KeepPhone(member.E164);
        AssertNoneLogged();
    }
}

/// <summary>Social login bound to an existing member by its password, email_existed, and unlinking.</summary>
public abstract partial class LogSecrecyBehaviour<TFixture>
{
    [Fact]
    public async Task SocialLogin_BoundByTheMembersPassword_EmailExisted_AndUnlink_NeverReachTheLogs()
    {
        var (member, email, password) = await Pan.Tests.Omniauth.SocialUsers.MemberWithEmailAndPasswordAsync(Server);
        var user = Pan.Tests.Omniauth.SocialUsers.New(email);
        var secret = fixture.SecretOf(LogSecrecyFixture.EmailApp);
        Keep(email, password, "not " + password, secret);

        async Task<(int Status, System.Text.Json.JsonElement Body)> SignInAsync(string? withPassword)
        {
            var login = fixture.Providers.SignIn("google_oauth2", user);
            Keep(login.Token, login.Secret);
            var (status, body, _) = await Pan.Tests.Omniauth.OmniauthFixture.PostAsync(Server, "through_omniauth", new Dictionary<string, string?>
            {
                ["client_id"] = LogSecrecyFixture.EmailApp, ["client_secret"] = secret, ["provider"] = login.Provider,
                ["omniauth_token"] = login.Token, ["email"] = email, ["password"] = withPassword,
            });
            return (status, body);
        }

        Assert.Equal(409, (await SignInAsync(null)).Status);
        Assert.Equal(403, (await SignInAsync("not " + password)).Status);
        var (bound, body) = await SignInAsync(password);
        Assert.Equal(200, bound);
        var access = body.GetProperty("data").GetProperty("access_token").GetString();
        Keep(access, body.GetProperty("data").GetProperty("refresh_token").GetString());

        var (existed, answer, _) = await Pan.Tests.Omniauth.OmniauthFixture.PostAsync(Server, "email_existed", new Dictionary<string, string?>
        {
            ["client_id"] = LogSecrecyFixture.EmailApp, ["client_secret"] = secret, ["email"] = email,
        });
        Assert.Equal(200, existed);
        Assert.True(answer.GetProperty("data").GetBoolean());

        await Client.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = access, Provider = "google_oauth2" });

        KeepPhone(member.Account!.PhoneE164!);
        AssertNoneLogged();
    }
}

/// <summary>Requests the HTTP server refuses before Pan sees them: their request line must not reach a log line.</summary>
public abstract partial class LogSecrecyBehaviour<TFixture>
{
    /// <summary>
    /// A client that does not encode a space (or another character a request line may not hold) in a link it follows or
    /// in an apinode GET makes a request line the server refuses with 400; the line holds the link token, the password
    /// or the activation code and phone, and none of it may be logged, at any level.
    /// </summary>
    [Fact]
    public async Task MalformedRequestLines_CarryingALinkTokenAPasswordOrAnActivationCode_NeverReachTheLogs()
    {
        var token = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var password = "Pan log " + Guid.NewGuid().ToString("N")[..12];
        var (national, e164) = PhoneFlows.Phones.NewNumber();
        var code = System.Security.Cryptography.RandomNumberGenerator.GetInt32(100_000, 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Keep(token, password, code + "@" + national);
        var before = fixture.Logs.Lines.Count;

        foreach (var target in new[]
        {
            $"/account/reset-password?token={token} x",
            $"/account/verify-email?token={token}\t",
            $"/admin/user/login?accName={national}&passwd={password}",
            $"/admin/user/activate/{code}@{national} x",
        })
        {
            var answer = await RawHttp.SendAsync(Server.HttpUri, RawHttp.Request("GET", target));
            Assert.Equal(400, answer.Status);
        }

        // Over HTTP/2 (the gRPC listener), a :path without its leading slash is refused as a stream error.
        await SendHttp2Async(Server.GrpcUri, $"account/reset-password?token={token}");

        // The server's connection lines were logged at Debug (else this test proves nothing).
        Assert.Contains(fixture.Logs.Lines.Skip(before), l => l.StartsWith("Microsoft.AspNetCore.Server.Kestrel.Connections Debug", StringComparison.Ordinal));
        KeepPhone(e164);
        AssertNoneLogged();
    }

    /// <summary>One HTTP/2 GET with prior knowledge (h2c) whose :path is sent as is, then reads until the server is done.</summary>
    private static async Task SendHttp2Async(Uri server, string path)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        var frames = new List<byte>(System.Text.Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        frames.AddRange(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 });
        // HPACK: :method GET and :scheme http (static table 2 and 6), then :path and :authority as literals without indexing.
        var block = new List<byte> { 0x82, 0x86 };
        foreach (var (index, text) in new[] { (4, path), (1, server.Authority) })
        {
            var value = System.Text.Encoding.ASCII.GetBytes(text);
            Assert.True(value.Length < 127);
            block.AddRange([(byte)index, (byte)value.Length, .. value]);
        }

        // HEADERS on stream 1 with END_STREAM and END_HEADERS.
        frames.AddRange([0, 0, (byte)block.Count, 1, 5, 0, 0, 0, 1, .. block]);
        await stream.WriteAsync(frames.ToArray());
        var buffer = new byte[16384];
        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            while (await stream.ReadAsync(buffer, done.Token) > 0)
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }
}
