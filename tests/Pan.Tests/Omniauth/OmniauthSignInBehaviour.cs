using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pan.General.Member;
using Pan.Server.Credentials;
using Microsoft.EntityFrameworkCore;
using Pan.Tests.Deletion;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Omniauth;

/// <summary>through_omniauth against loopback servers speaking each provider's API: sign-up, sign-in, binding and every error.</summary>
public abstract class OmniauthSignInBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OmniauthFixture
{
    private PanServer Server => fixture.Server;

    private FakeSocialProviders Providers => fixture.Providers;

    private static SocialUser NewUser(string? email = "") => SocialUsers.New(email);

    private Dictionary<string, string?> Fields(SocialLogin login, string? email = null, string? password = null) =>
        fixture.SignInFields(login, email, password);

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> SignInAsync(SocialLogin login, string? email = null, string? password = null, bool form = false) =>
        OmniauthFixture.PostAsync(Server, "through_omniauth", Fields(login, email, password), form);

    private static void AssertError(int expectedStatus, int code, string message, (int Status, JsonElement Body, HttpResponseMessage _) answer)
    {
        Assert.Equal(code, answer.Body.GetProperty("code").GetInt32());
        Assert.Equal(message, answer.Body.GetProperty("message").GetString());
        Assert.Equal(["code", "message"], answer.Body.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(expectedStatus, answer.Status);
    }

    [Theory]
    [InlineData("facebook")]
    [InlineData("google_oauth2")]
    [InlineData("twitter")]
    [InlineData("linkedin")]
    [InlineData("microsoft_graph")]
    public async Task ThroughOmniauth_ANewUserWithAProviderEmail_CreatesAMemberAndAnswersTheSeedsShape(string provider)
    {
        var user = NewUser();
        var login = Providers.SignIn(provider, user);

        var (status, body, response) = await SignInAsync(login, form: provider == "facebook");

        Assert.Equal(200, status);
        SeedShape.AssertMatches(body);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var data = body.GetProperty("data");
        Assert.Equal(200, body.GetProperty("code").GetInt32());
        Assert.Equal("ok", body.GetProperty("message").GetString());
        Assert.Equal(user.Email, data.GetProperty("email").GetString());
        Assert.Equal(user.Email, data.GetProperty("account").GetString());
        Assert.Equal(user.Name, data.GetProperty("name").GetString());
        Assert.Equal(user.Name, data.GetProperty("profile_data").GetProperty("display_name").GetString());
        Assert.True(Guid.TryParseExact(data.GetProperty("uuid").GetString(), "D", out _));
        Assert.Matches("^[0-9a-f]{64}$", data.GetProperty("access_token").GetString());
        Assert.Matches("^[0-9a-f]{64}$", data.GetProperty("refresh_token").GetString());
        Assert.NotEqual(data.GetProperty("access_token").GetString(), data.GetProperty("refresh_token").GetString());
        Assert.Equal("bearer", data.GetProperty("token_type").GetString());
        Assert.Equal(172800, data.GetProperty("expires_in").GetInt32());
        Assert.Equal("2026-01-01T00:00:00.000Z", data.GetProperty("current_time").GetString());
        Assert.Equal("2026-01-01T00:00:00.000Z", data.GetProperty("created_at").GetString());
        Assert.Equal("2015-05-15T00:00:00.000Z", data.GetProperty("version_email_log_release_time").GetString());
        Assert.Equal("icon1", data.GetProperty("profile_data").GetProperty("icon_info").GetProperty("icon_default_id").GetString());
        Assert.False(data.GetProperty("is_developer").GetBoolean());
        // Microsoft Graph's mail is not verified by Microsoft, so that member's email is not confirmed.
        var confirmed = provider != "microsoft_graph";
        Assert.Equal(confirmed, data.GetProperty("confirmed").GetBoolean());
        Assert.Equal(confirmed, !body.TryGetProperty("unconfirmed_email_info", out _));
        Assert.Empty(Providers.BadSignatures);
    }

    [Fact]
    public async Task ThroughOmniauth_TheSessionItOpens_RecordsTheSignInsDevice()
    {
        var login = Providers.SignIn("google_oauth2", NewUser());

        var (status, body, _) = await OmniauthFixture.PostAsync(Server, "through_omniauth", Fields(login), userAgent: "SocialApp/4.2 (tablet)");

        Assert.Equal(200, status);
        var access = body.GetProperty("data").GetProperty("access_token").GetString();
        var session = Assert.Single((await new MemberServiceV2.MemberServiceV2Client(Server.Grpc)
            .ListSessionsAsync(new ListSessionsRequest { AccessToken = access })).Sessions);
        Assert.Equal(("auth-by-omniauth", "127.0.0.1", "SocialApp/4.2 (tablet)", true), (session.AuthMethod, session.ClientIp, session.UserAgent, session.Current));
    }

    [Fact]
    public async Task ThroughOmniauth_WithAGoogleIdTokenSignedByThePublishedKey_SignsIn()
    {
        var user = NewUser();
        var idToken = Providers.GoogleIdToken(user, Server.Clock.GetUtcNow());

        var (status, body, _) = await SignInAsync(new SocialLogin("google_oauth2", idToken));

        Assert.Equal(200, status);
        SeedShape.AssertMatches(body);
        Assert.Equal(user.Email, body.GetProperty("data").GetProperty("email").GetString());
        Assert.Contains("/google/certs", Providers.Calls);
    }

    [Theory]
    [InlineData("audience")]
    [InlineData("issuer")]
    [InlineData("key")]
    [InlineData("expired")]
    public async Task ThroughOmniauth_WithABadGoogleIdToken_IsAuthoricationFailed(string flaw)
    {
        var user = NewUser();
        var now = Server.Clock.GetUtcNow();
        var idToken = flaw switch
        {
            "audience" => Providers.GoogleIdToken(user, now, audience: "someone-else.apps.googleusercontent.com"),
            "issuer" => Providers.GoogleIdToken(user, now, issuer: "https://evil.example.com"),
            "key" => Providers.GoogleIdToken(user, now, otherKey: true),
            _ => Providers.GoogleIdToken(user, now - TimeSpan.FromHours(3)),
        };

        AssertError(403, 403, "Authorication failed", await SignInAsync(new SocialLogin("google_oauth2", idToken)));
    }

    [Fact]
    public async Task ThroughOmniauth_AGoogleAccessTokenIssuedToAnotherClient_IsAuthoricationFailed()
    {
        var login = Providers.SignInGoogleForAnotherClient(NewUser());

        AssertError(403, 403, "Authorication failed", await SignInAsync(login));
    }

    [Fact]
    public async Task ThroughOmniauth_TwitterWithTheWrongTokenSecret_FailsTheProvidersSignatureCheck()
    {
        var login = Providers.SignIn("twitter", NewUser());

        var answer = await SignInAsync(login with { Secret = "not-the-secret" });

        AssertError(403, 403, "Authorication failed", answer);
        Assert.NotEmpty(Providers.BadSignatures);
        while (Providers.BadSignatures.TryDequeue(out _))
        {
        }
    }

    [Fact]
    public async Task ThroughOmniauth_TwitterWithAnUnknownBundle_IsAuthoricationFailed()
    {
        var login = Providers.SignIn("twitter", NewUser());

        AssertError(403, 403, "Authorication failed", await SignInAsync(login with { BundleId = "com.example.unknown" }));
    }

    [Theory]
    [InlineData("qq_connect")]
    [InlineData("wechat")]
    public async Task ThroughOmniauth_ProvidersWithoutEmail_NeedTheEmailParameter(string provider)
    {
        var user = NewUser(email: null);
        var login = Providers.SignIn(provider, user);
        var email = $"given{user.Id}@example.com";

        var without = await SignInAsync(login);
        var (status, body, _) = await SignInAsync(login, email: email);

        AssertError(422, 4025, "Email not available", without);
        Assert.Equal(200, status);
        SeedShape.AssertMatches(body);
        var data = body.GetProperty("data");
        Assert.Equal(email, data.GetProperty("email").GetString());
        Assert.Equal(user.Name, data.GetProperty("name").GetString());
        Assert.False(data.GetProperty("confirmed").GetBoolean());
        Assert.Equal(email, data.GetProperty("unconfirmed_email").GetString());
        Assert.Equal(email, body.GetProperty("unconfirmed_email_info").GetProperty("email").GetString());
    }

    [Fact]
    public async Task ThroughOmniauth_AQqTokenOfAnotherApp_OrAnotherOpenId_IsAuthoricationFailed()
    {
        var user = NewUser(email: null);
        var otherApp = Providers.SignInQqForAnotherApp(user);
        var ours = Providers.SignIn("qq_connect", user);

        AssertError(403, 403, "Authorication failed", await SignInAsync(otherApp, email: $"q{user.Id}@example.com"));
        AssertError(403, 403, "Authorication failed", await SignInAsync(ours with { OpenId = "someone-else" }, email: $"q{user.Id}@example.com"));
    }

    [Fact]
    public async Task ThroughOmniauth_WechatWithAnotherOpenId_IsAuthoricationFailed()
    {
        var login = Providers.SignIn("wechat", NewUser(email: null));

        AssertError(403, 403, "Authorication failed", await SignInAsync(login with { OpenId = "o-someone-else" }, email: "w@example.com"));
    }

    [Theory]
    [InlineData("facebook")]
    [InlineData("google_oauth2")]
    [InlineData("twitter")]
    [InlineData("linkedin")]
    [InlineData("qq_connect")]
    [InlineData("wechat")]
    [InlineData("microsoft_graph")]
    public async Task ThroughOmniauth_WithATokenTheProviderRejects_IsAuthoricationFailed(string provider)
    {
        var login = Providers.SignIn(provider, NewUser());

        var answer = await SignInAsync(login with { Token = login.Token + "x" }, email: "r@example.com");

        AssertError(403, 403, "Authorication failed", answer);
    }

    [Fact]
    public async Task ThroughOmniauth_TheSameProviderUserAgain_SignsInTheSameMember_WhateverEmailIsGiven()
    {
        var user = NewUser();
        var first = await SignInAsync(Providers.SignIn("facebook", user));
        var again = await SignInAsync(Providers.SignIn("facebook", user), email: $"other{user.Id}@example.com");

        Assert.Equal(200, again.Status);
        Assert.Equal(first.Body.GetProperty("data").GetProperty("uuid").GetString(), again.Body.GetProperty("data").GetProperty("uuid").GetString());
        Assert.Equal(user.Email, again.Body.GetProperty("data").GetProperty("email").GetString());
        Assert.NotEqual(first.Body.GetProperty("data").GetProperty("access_token").GetString(), again.Body.GetProperty("data").GetProperty("access_token").GetString());
    }

    [Fact]
    public async Task ThroughOmniauth_TheSameEmailAtAnotherProvider_IsNotSignedInByEmailAlone()
    {
        var email = $"shared{Guid.NewGuid():N}@example.com";
        var facebook = await SignInAsync(Providers.SignIn("facebook", NewUser(email)));

        var linkedin = await SignInAsync(Providers.SignIn("linkedin", NewUser(email)));

        Assert.Equal(200, facebook.Status);
        AssertError(409, 4028, "Email already taken, password required", linkedin);
    }

    [Fact]
    public async Task ThroughOmniauth_AnExistingMembersEmail_NeedsThatMembersPassword_ThenBindsTheIdentity()
    {
        var (member, email, password) = await SocialUsers.MemberWithEmailAndPasswordAsync(Server);
        var user = NewUser(email);

        var noPassword = await SignInAsync(Providers.SignIn("google_oauth2", user));
        var wrong = await SignInAsync(Providers.SignIn("google_oauth2", user), password: "not the password at all");
        var right = await SignInAsync(Providers.SignIn("google_oauth2", user), password: password);
        var later = await SignInAsync(Providers.SignIn("google_oauth2", user));

        AssertError(409, 4028, "Email already taken, password required", noPassword);
        AssertError(403, 4026, "Invalid password", wrong);
        Assert.Equal(200, right.Status);
        Assert.Equal(member.ObjectId.ToString("D"), right.Body.GetProperty("data").GetProperty("uuid").GetString());
        Assert.Equal(member.ObjectId.ToString("D"), later.Body.GetProperty("data").GetProperty("uuid").GetString());
    }

    [Fact]
    public async Task ThroughOmniauth_BindingASecondAccountOfTheSameProvider_IsAlreadyBound()
    {
        var (_, email, password) = await SocialUsers.MemberWithEmailAndPasswordAsync(Server);
        var bound = await SignInAsync(Providers.SignIn("facebook", NewUser(email)), password: password);

        var second = await SignInAsync(Providers.SignIn("facebook", NewUser(email)), password: password);

        Assert.Equal(200, bound.Status);
        AssertError(409, 4006, "Already bound", second);
    }

    [Fact]
    public async Task ThroughOmniauth_ParallelFirstSignInsOfOneUser_AllSignInOneMember()
    {
        var user = NewUser();
        var logins = Enumerable.Range(0, 6).Select(_ => Providers.SignIn("facebook", user)).ToList();

        var answers = await Task.WhenAll(logins.Select(l => SignInAsync(l)));

        Assert.All(answers, a => Assert.True(a.Status == 200, $"unexpected {a.Status} {a.Body}"));
        Assert.Single(answers.Select(a => a.Body.GetProperty("data").GetProperty("uuid").GetString()).Distinct());
        var members = await TestMembers.WithDbAsync(Server, db => Task.FromResult(db.Members.Count(m => m.EmailKey == user.Email)));
        Assert.Equal(1, members);
    }

    [Fact]
    public async Task ThroughOmniauth_ParallelFirstSignInsOfDifferentUsersWithOneVerifiedEmail_CreateOneMember_AndTheOthersArePasswordRequired()
    {
        // Twenty provider users (of two providers) vouching for one address at once: as one after the other, the first
        // creates the member and every other is asked for that member's password (4028), never "Token generation failed".
        var email = $"race{Guid.NewGuid():N}@example.com";
        var logins = Enumerable.Range(0, 20).Select(i => Providers.SignIn(i % 2 == 0 ? "facebook" : "linkedin", NewUser(email))).ToList();

        var answers = await Task.WhenAll(logins.Select(l => SignInAsync(l)));

        Assert.Single(answers, a => a.Status == 200);
        Assert.All(answers.Where(a => a.Status != 200), a => AssertError(409, 4028, "Email already taken, password required", a));
        Assert.Equal(1, await TestMembers.WithDbAsync(Server, db => db.Members.CountAsync(m => m.EmailKey == email)));
    }

    [Fact]
    public async Task ThroughOmniauth_WhenTheMemberCannotBeCreated_IsTokenGenerationFailed()
    {
        // A tombstone that still holds its verified email key (as a half-finished legacy deletion would) is not a live
        // owner, but the database refuses a second verified holder of that email: creation fails and no token is issued.
        var email = $"tomb{Guid.NewGuid():N}@example.com";
        var tomb = await TestMembers.CreateAsync(Server, m =>
        {
            m.Email = email;
            m.EmailKey = email;
            m.EmailVerified = true;
        });
        await TestMembers.UpdateAsync(Server, tomb.Uid, m => m.Deleted = Server.Clock.GetUtcNow());

        var user = NewUser(email);

        var answer = await SignInAsync(Providers.SignIn("linkedin", user));

        AssertError(400, 400, "Token generation failed", answer);
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => Task.FromResult(
            db.Set<Pan.Data.Omniauth.SocialIdentity>().Count(i => i.Provider == "linkedin" && i.ProviderUserId == user.Id))));
    }

    [Theory]
    [InlineData("wrong-secret")]
    [InlineData("unknown-client")]
    [InlineData("missing")]
    [InlineData("other-apps-secret")]
    public async Task ThroughOmniauth_WithoutAValidClient_IsNotAuthorizedClient(string flaw)
    {
        var fields = Fields(Providers.SignIn("facebook", NewUser()));
        switch (flaw)
        {
            case "wrong-secret":
                fields["client_secret"] = fixture.Secret[..^1] + (fixture.Secret[^1] == 'A' ? "B" : "A");
                break;
            case "unknown-client":
                fields["client_id"] = "no-such-app";
                break;
            case "missing":
                fields.Remove("client_id");
                fields.Remove("client_secret");
                break;
            default:
                fields["client_secret"] = fixture.OtherSecret;
                break;
        }

        AssertError(403, 403, "Not authorized client", await OmniauthFixture.PostAsync(Server, "through_omniauth", fields));
    }

    [Theory]
    [InlineData("provider", null, "provider")]
    [InlineData("provider", "myspace", "provider")]
    [InlineData("omniauth_token", null, "omniauth_token")]
    [InlineData("bundle_id", null, "bundle_id")]
    [InlineData("omniauth_secret", null, "omniauth_secret")]
    [InlineData("email", "not-an-email", "email")]
    public async Task ThroughOmniauth_WithABadParameter_Is400NamingIt(string field, string? value, string named)
    {
        var fields = Fields(Providers.SignIn("twitter", NewUser()));
        fields[field] = value;

        var (status, body, _) = await OmniauthFixture.PostAsync(Server, "through_omniauth", fields);

        Assert.Equal(400, status);
        Assert.Equal(400, body.GetProperty("code").GetInt32());
        Assert.Contains(named, body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThroughOmniauth_QqWithoutOpenId_Is400NamingIt()
    {
        var fields = Fields(Providers.SignIn("qq_connect", NewUser(email: null)));
        fields["open_id"] = null;

        var (status, body, _) = await OmniauthFixture.PostAsync(Server, "through_omniauth", fields);

        Assert.Equal(400, status);
        Assert.Contains("open_id", body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThroughOmniauth_WithMalformedJson_Is400()
    {
        using var content = new StringContent("{\"client_id\":", System.Text.Encoding.UTF8, "application/json");
        using var response = await Server.Http.PostAsync("/api/v3/verification/through_omniauth", content);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(400, body.GetProperty("code").GetInt32());
        Assert.Contains("body", body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "client_id=jkforum&provider=a%00b", "body")] // a form value with NUL
    [InlineData("multipart/form-data", "client_id=jkforum", "body")] // no boundary
    [InlineData("multipart/form-data; boundary=b", "--b\r\nnot a header\r\n\r\nx\r\n--b--\r\n", "body")]
    [InlineData("application/json", "{\"client_id\":\"jkforum\",\"provider\":\"a\\ud800b\"}", "provider")] // an unpaired surrogate
    [InlineData("application/json", "{\"client_id\":\"jk\u00FFforum\"}", "client_id")] // not UTF-8
    public async Task AnyEndpoint_WithAnUnreadableBodyOrValue_Is400NamingIt_NeverA500(string contentType, string body, string named)
    {
        foreach (var endpoint in new[] { "through_omniauth", "email_existed", "refresh_token" })
        {
            // Why Latin-1: it carries the one byte 0xFF that makes the JSON body invalid UTF-8; every other character is ASCII.
            using var content = new ByteArrayContent(System.Text.Encoding.Latin1.GetBytes(body));
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            using var response = await Server.Http.PostAsync("/api/v3/verification/" + endpoint, content);
            var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

            Assert.Equal((HttpStatusCode.BadRequest, 400), (response.StatusCode, answer.GetProperty("code").GetInt32()));
            Assert.Contains("Invalid parameter " + named, answer.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ThroughOmniauth_WithAnOversizedBodyOrValue_Is400BeforeAnyWork(bool chunked)
    {
        var json = "{\"client_id\":\"jkforum\",\"password\":\"" + new string('p', chunked ? 200_000 : 5_000) + "\"}";
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        if (chunked)
        {
            await content.LoadIntoBufferAsync();
            content.Headers.ContentLength = null;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v3/verification/through_omniauth") { Content = content };
        request.Headers.TransferEncodingChunked = chunked;
        using var response = await Server.Http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(400, body.GetProperty("code").GetInt32());
        Assert.Contains(chunked ? "body" : "password", body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ThroughOmniauth_WhenTheProviderIsDownOrSlow_Is503AndIssuesNothing(bool slow)
    {
        var login = Providers.SignIn("linkedin", NewUser());
        if (slow)
        {
            Providers.Delay = TimeSpan.FromSeconds(5);
        }
        else
        {
            Providers.FailWith = HttpStatusCode.InternalServerError;
        }

        try
        {
            AssertError(503, 503, "Provider unavailable", await SignInAsync(login));
        }
        finally
        {
            Providers.Delay = TimeSpan.Zero;
            Providers.FailWith = null;
        }

        Assert.Equal(200, (await SignInAsync(login)).Status);
    }

    [Fact]
    public async Task ThroughOmniauth_TheAccessToken_IsAPanAccessTokenForTheClientsApp()
    {
        var user = NewUser();
        var (_, body, _) = await SignInAsync(Providers.SignIn("facebook", user));
        var data = body.GetProperty("data");
        var client = new MemberServiceV2.MemberServiceV2Client(Server.Grpc);

        var me = await client.MeAsync(new MeRequest { AccessToken = data.GetProperty("access_token").GetString(), AppId = OmniauthFixture.Client });
        var check = await client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = data.GetProperty("access_token").GetString() });

        Assert.Equal(data.GetProperty("uuid").GetString(), me.User.ObjectId);
        Assert.Equal(user.Email, me.User.Email);
        Assert.NotNull(check.Info);
    }

    [Theory]
    [InlineData("marks")] // 20 letters of 4 UTF-16 units each (three combining marks): 80, the column holds 64
    [InlineData("ligatures")] // 20 x U+FDFA: 20 characters whose uniqueness key folds to 360, the column holds 128
    public async Task ThroughOmniauth_AProviderNameOfTwentyLettersTooLongToStore_StillCreatesTheMember(string kind)
    {
        var name = kind == "marks" ? string.Concat(Enumerable.Repeat("x\u0301\u0302\u0303", 20)) : new string('\uFDFA', 20);
        var user = NewUser() with { Name = name };

        var (status, body, _) = await SignInAsync(Providers.SignIn("google_oauth2", user));

        Assert.True(status == 200, $"unexpected {status} {body}");
        var shown = body.GetProperty("data").GetProperty("name").GetString()!;
        Assert.True(shown.Length <= 64 && Pan.Server.DisplayNames.DisplayNameRules.Key(shown).Length <= 128, shown);
        Assert.StartsWith(name[..(kind == "marks" ? 4 : 1)], shown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThroughOmniauth_BindingToTheEmailsMember_WhileItsDeletionIsUncommitted_BindsNothingToIt_AndTheUserSignsInLater()
    {
        // The call finds the email's member and checks its password while the deletion's transaction is still open (on
        // PostgreSQL the member still looks live); the identity it then binds must not end up on the deleted member,
        // where it would keep the provider user out of social sign-in for good.
        var (member, email, password) = await SocialUsers.MemberWithEmailAndPasswordAsync(Server);
        var user = NewUser(email);
        Task<(int Status, JsonElement Body, HttpResponseMessage Response)> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => SignInAsync(Providers.SignIn("google_oauth2", user), password: password));
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        var answer = await call;

        Assert.True(answer.Status is 200 or 403, $"unexpected {answer.Status} {answer.Body}");
        if (answer.Status == 200)
        {
            Assert.NotEqual(member.ObjectId.ToString("D"), answer.Body.GetProperty("data").GetProperty("uuid").GetString());
        }

        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<Pan.Data.Omniauth.SocialIdentity>().CountAsync(i => i.Uid == member.Uid)));
        var later = await SignInAsync(Providers.SignIn("google_oauth2", user));
        Assert.True(later.Status == 200, $"unexpected {later.Status} {later.Body}");
        Assert.NotEqual(member.ObjectId.ToString("D"), later.Body.GetProperty("data").GetProperty("uuid").GetString());
    }

    [Fact]
    public async Task ThroughOmniauth_OfABoundMember_WhileItsDeletionIsUncommitted_DoesNotSignInTheDeletedMember()
    {
        var user = NewUser();
        var first = await SignInAsync(Providers.SignIn("facebook", user));
        Assert.Equal(200, first.Status);
        var uuid = first.Body.GetProperty("data").GetProperty("uuid").GetString()!;
        var uid = await TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.ObjectId == Guid.Parse(uuid)).Select(m => m.Uid).SingleAsync());
        Task<(int Status, JsonElement Body, HttpResponseMessage Response)> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(Server, fixture.Database, uid))
        {
            call = Task.Run(() => SignInAsync(Providers.SignIn("facebook", user)));
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        var answer = await call;

        // The identity went with the member: the user is now a new user, as on its next sign-in.
        Assert.True(answer.Status == 200, $"unexpected {answer.Status} {answer.Body}");
        Assert.NotEqual(uuid, answer.Body.GetProperty("data").GetProperty("uuid").GetString());
    }
}

public sealed class OmniauthSignInBehaviour_Sqlite(SqliteOmniauthFixture f) : OmniauthSignInBehaviour<SqliteOmniauthFixture>(f);

public sealed class OmniauthSignInBehaviour_Postgres(PostgresOmniauthFixture f) : OmniauthSignInBehaviour<PostgresOmniauthFixture>(f);
