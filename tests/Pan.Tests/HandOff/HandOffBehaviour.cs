using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.General.Member;
using Pan.Lever.Member;
using Pan.Server.Tokens;
using Pan.Tests.Admin;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using LeverClient = Pan.Lever.Member.MemberService.MemberServiceClient;

namespace Pan.Tests.HandOff;

/// <summary>
/// The cross-app hand-off end to end: app A (jkforum) → MakeLoginToken → app B (shop24h) → ValidateLoginToken → B's back
/// end → lever AuthToken → the member's auth token; and every error of the three calls.
/// </summary>
public abstract class HandOffBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AdminFixture
{
    private const string AuthUrl = $"https://{AdminFixture.ForumHost}/sso/complete?next=%2Fthreads";

    private MemberServiceV2.MemberServiceV2Client Members => new(fixture.Server.Grpc);

    private LeverClient Lever => new(fixture.Server.Grpc);

    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    private static Metadata Internal => new() { { "x-pan-internal-key", AdminFixture.InternalKey } };

    [Fact]
    public async Task HandOff_FromOneAppToAnother_SignsTheMemberInOnce()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var forumAccess = await TestMembers.AccessTokenAsync(fixture.Server, member, "jkforum");

        var made = await Members.MakeLoginTokenAsync(
            new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = AuthUrl }, Bearer(forumAccess));
        var validated = await Members.ValidateLoginTokenAsync(new ValidateLoginTokenRequest { LoginToken = made.LoginToken, AppId = "shop24h", AppSecret = fixture.ShopSecret });
        var again = await Members.ValidateLoginTokenAsync(new ValidateLoginTokenRequest { LoginToken = made.LoginToken, AppId = "shop24h", AppSecret = fixture.ShopSecret });
        var auth = await Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = made.LoginToken }, Internal);

        Assert.True(made.LoginToken.Length >= 43, "a login token carries at least 256 bits");
        Assert.Equal(AuthUrl, validated.AuthUrl);
        Assert.Equal(AuthUrl, again.AuthUrl);
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var claims = await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAuthTokenAsync(auth.AuthToken, default);
            Assert.NotNull(claims);
            Assert.Equal((member.Uid, AuthMethods.LoginToken), (claims.Uid, claims.AuthMethod));
        }

        // App B now holds a working sign-in for the member.
        var shopAccess = await TestMembers.AccessTokenAsync(fixture.Server, auth.AuthToken, member, "shop24h");
        Assert.NotEmpty(shopAccess);

        await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = made.LoginToken }, Internal).ResponseAsync,
            StatusCode.Unauthenticated, "ErrAuthToken.LOGIN_TOKEN_INVALID");
        await Errors.ExpectAsync(
            () => Members.ValidateLoginTokenAsync(new ValidateLoginTokenRequest { LoginToken = made.LoginToken, AppId = "shop24h", AppSecret = fixture.ShopSecret }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateLoginToken.GENERAL_INVALID");
    }

    /// <summary>
    /// Two nodes on one database: a login token made through one node is validated and redeemed through the other, once;
    /// spent there, it is refused on both (and the other way round: made on the second, spent on the first).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TwoNodes_ALoginTokenMadeOnOne_IsRedeemedOnTheOther_Once(bool madeOnTheFixturesNode)
    {
        await using var other = await fixture.StartNodeAsync(new Dictionary<string, string?>());
        var (maker, redeemer) = madeOnTheFixturesNode ? (fixture.Server, other) : (other, fixture.Server);
        var member = await TestMembers.CreateAsync(maker);
        var forumAccess = await TestMembers.AccessTokenAsync(maker, member, "jkforum");
        var made = await new MemberServiceV2.MemberServiceV2Client(maker.Grpc).MakeLoginTokenAsync(
            new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = AuthUrl }, Bearer(forumAccess));
        var validate = new ValidateLoginTokenRequest { LoginToken = made.LoginToken, AppId = "shop24h", AppSecret = fixture.ShopSecret };
        var exchange = new AuthTokenRequest { Uid = member.Uid, LoginToken = made.LoginToken };

        Assert.Equal(AuthUrl, (await new MemberServiceV2.MemberServiceV2Client(redeemer.Grpc).ValidateLoginTokenAsync(validate)).AuthUrl);
        var auth = await new LeverClient(redeemer.Grpc).AuthTokenAsync(exchange, Internal);
        Assert.NotEmpty(await TestMembers.AccessTokenAsync(maker, auth.AuthToken, member, "shop24h"));

        foreach (var node in new[] { maker, redeemer })
        {
            await Errors.ExpectAsync(() => new LeverClient(node.Grpc).AuthTokenAsync(exchange, Internal).ResponseAsync,
                StatusCode.Unauthenticated, "ErrAuthToken.LOGIN_TOKEN_INVALID");
            await Errors.ExpectAsync(() => new MemberServiceV2.MemberServiceV2Client(node.Grpc).ValidateLoginTokenAsync(validate).ResponseAsync,
                StatusCode.Unauthenticated, "ErrValidateLoginToken.GENERAL_INVALID");
        }
    }

    /// <summary>Ten exchanges of one login token, alternating between two nodes: exactly one opens a session.</summary>
    [Fact]
    public async Task TwoNodes_TenExchangesOfOneLoginToken_AlternatingNodes_ExactlyOneWins()
    {
        await using var other = await fixture.StartNodeAsync(new Dictionary<string, string?>());
        var (member, token) = await MakeAsync();
        var nodes = new[] { fixture.Server, other };

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            try
            {
                return (await new LeverClient(nodes[i % 2].Grpc).AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal)).AuthToken;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
            {
                return null;
            }
        })));

        Assert.Single(outcomes, o => o is not null);
    }

    [Fact]
    public async Task HandOff_OfOneMemberOfAPhone_OpensOnlyThatMember_NotThePhonesOtherMembers()
    {
        var owner = await TestMembers.CreateAsync(fixture.Server);
        var sibling = await TestMembers.AddToPhoneAsync(fixture.Server, owner);
        var forumAccess = await TestMembers.AccessTokenAsync(fixture.Server, sibling, "jkforum");
        var made = await Members.MakeLoginTokenAsync(
            new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = AuthUrl }, Bearer(forumAccess));
        var auth = (await Lever.AuthTokenAsync(new AuthTokenRequest { Uid = sibling.Uid, LoginToken = made.LoginToken }, Internal)).AuthToken;

        // App A handed over the member signed in to it, not the phone: the owner (the phone's default member) stays
        // out of reach, named or by an empty object_id, and an empty object_id is the handed-over member.
        var ex = await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(fixture.Server, auth, owner, "shop24h"), StatusCode.NotFound, "ErrAccessToken.FAILED");
        Assert.Equal("1001", ex.Info().Metadata["code"]);
        var implicitMember = await TestMembers.AccessTokenAsync(fixture.Server, auth, null, "shop24h");
        Assert.Equal(sibling.Uid, (await Members.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = implicitMember })).Info.Uid);
        var named = await TestMembers.AccessTokenAsync(fixture.Server, auth, sibling, "shop24h");
        Assert.Equal(sibling.Uid, (await Members.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = named })).Info.Uid);
    }

    [Fact]
    public async Task AuthToken_TenParallelExchangesOfOneLoginToken_ExactlyOneWins()
    {
        var (member, token) = await MakeAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            try
            {
                return (await Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal)).AuthToken;
            }
            catch (RpcException ex) when (ex.Info().Reason == "ErrAuthToken.LOGIN_TOKEN_INVALID")
            {
                return null;
            }
        }));

        Assert.Single(results, r => r is not null);
    }

    [Fact]
    public async Task MakeLoginToken_WithAppCredentialsInHeadersAndOverHttpJson_Works()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member, "jkforum");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/member/make-login-token") { Content = JsonContent.Create(new { authUrl = AuthUrl }) };
        request.Headers.Add("x-pan-app-id", "jkforum");
        request.Headers.Add("x-pan-app-secret", fixture.ForumSecret);
        request.Headers.Add("Authorization", "Bearer " + access);

        using var response = await fixture.Server.Http.SendAsync(request);
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("loginToken").GetString();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var validated = await Members.ValidateLoginTokenAsync(new ValidateLoginTokenRequest { LoginToken = token, AppId = "jkforum", AppSecret = fixture.ForumSecret });
        Assert.Equal(AuthUrl, validated.AuthUrl);
    }

    [Theory]
    [InlineData("", "secret", "app_id")]
    [InlineData("jkforum", "", "app_secret")]
    public async Task LoginTokenCalls_WithoutAppCredentials_AreAppIdAppSecretRequired(string appId, string secret, string field)
    {
        var make = await Errors.ExpectAsync(
            () => Members.MakeLoginTokenAsync(new MakeLoginTokenRequest { AppId = appId, AppSecret = secret, AuthUrl = AuthUrl }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrMakeLoginToken.GENERAL_APPID_APPSECRET_REQUIRED");
        var validate = await Errors.ExpectAsync(
            () => Members.ValidateLoginTokenAsync(new ValidateLoginTokenRequest { LoginToken = "x", AppId = appId, AppSecret = secret }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrValidateLoginToken.GENERAL_APPID_APPSECRET_REQUIRED");

        Assert.Equal(field, Assert.Single(make.BadRequest()!.FieldViolations).Field);
        Assert.Equal(field, Assert.Single(validate.BadRequest()!.FieldViolations).Field);
    }

    [Theory]
    [InlineData("jkforum", "wrong")]
    [InlineData("jkforum", "SHOP")]
    [InlineData("jktalk", "FORUM")]
    [InlineData("nosuchapp", "FORUM")]
    public async Task LoginTokenCalls_WithWrongAppCredentials_AreGeneralFailed(string appId, string secret)
    {
        // SHOP/FORUM: another app's real secret; jktalk is seeded but was never given a secret.
        secret = secret switch { "SHOP" => fixture.ShopSecret, "FORUM" => fixture.ForumSecret, _ => secret };

        await Errors.ExpectAsync(() => Members.MakeLoginTokenAsync(new MakeLoginTokenRequest { AppId = appId, AppSecret = secret, AuthUrl = AuthUrl }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrMakeLoginToken.GENERAL_FAILED");
        await Errors.ExpectAsync(() => Members.ValidateLoginTokenAsync(new ValidateLoginTokenRequest { LoginToken = "x", AppId = appId, AppSecret = secret }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateLoginToken.GENERAL_FAILED");
    }

    [Theory]
    [InlineData("")]
    [InlineData("https://evil.example.net/sso")]
    [InlineData($"https://{AdminFixture.ShopHost}/sso")]
    [InlineData($"http://{AdminFixture.ForumHost}/sso")]
    [InlineData($"https://user@{AdminFixture.ForumHost}/sso")]
    [InlineData("/relative/path")]
    [InlineData("javascript:alert(1)")]
    public async Task MakeLoginToken_WithAnAuthUrlOffTheAppsHosts_IsInvalidArgumentNamingIt(string authUrl)
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member, "jkforum");

        var ex = await Errors.ExpectAsync(
            () => Members.MakeLoginTokenAsync(new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = authUrl }, Bearer(access)).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("auth_url", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    /// <summary>
    /// ValidateLoginToken hands auth_url to another app, which may put it in a Location header or a page: a raw CR/LF
    /// (or any other control or white-space character) there splits headers or URLs. Refused where it is set.
    /// </summary>
    [Theory]
    [InlineData("crlf")]
    [InlineData("lf")]
    [InlineData("tab")]
    [InlineData("nul")]
    [InlineData("del")]
    [InlineData("nel")]
    [InlineData("line-separator")]
    [InlineData("space")]
    public async Task MakeLoginToken_WithAControlCharacterInTheAuthUrl_IsInvalidArgumentNamingIt(string what)
    {
        var character = what switch
        {
            "crlf" => "\r\n",
            "lf" => "\n",
            "tab" => "\t",
            "nul" => "\0",
            "del" => "\u007f",
            "nel" => "\u0085",
            "line-separator" => "\u2028",
            _ => " ",
        };
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member, "jkforum");
        var authUrl = $"https://{AdminFixture.ForumHost}/sso?next=1{character}Set-Cookie: session=attacker";

        var ex = await Errors.ExpectAsync(
            () => Members.MakeLoginTokenAsync(new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = authUrl }, Bearer(access)).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("auth_url", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task MakeLoginToken_WithAnAuthUrlLongerThanItsColumn_IsInvalidArgumentNamingIt()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member, "jkforum");
        var authUrl = $"https://{AdminFixture.ForumHost}/sso?next=" + new string('a', 2048);

        var ex = await Errors.ExpectAsync(
            () => Members.MakeLoginTokenAsync(new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = authUrl }, Bearer(access)).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("auth_url", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    /// <summary>A login token stored before auth_url was checked for control characters: its auth_url is never echoed.</summary>
    [Fact]
    public async Task ValidateLoginToken_OfATokenWhoseStoredAuthUrlHoldsAControlCharacter_IsInvalidAndEchoesNothing()
    {
        var (_, token) = await MakeAsync();
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token));
        await TestMembers.WithDbAsync(fixture.Server, db => db.Set<Pan.Data.HandOff.StoredLoginToken>()
            .Where(t => t.Hash == hash)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.AuthUrl, AuthUrl + "\r\nSet-Cookie: session=attacker")));

        var ex = await Errors.ExpectAsync(
            () => Members.ValidateLoginTokenAsync(new ValidateLoginTokenRequest { LoginToken = token, AppId = "shop24h", AppSecret = fixture.ShopSecret }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateLoginToken.GENERAL_INVALID");
        Assert.DoesNotContain("Set-Cookie", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MakeLoginToken_ToALoopbackHostOverHttp_IsAllowedForDevelopment()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member, "jkforum");

        var made = await Members.MakeLoginTokenAsync(
            new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = "http://127.0.0.1:3000/sso" }, Bearer(access));

        Assert.NotEmpty(made.LoginToken);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer")]
    [InlineData("Bearer not-a-real-access-token-at-all-0000000000")]
    public async Task MakeLoginToken_WithoutTheMembersAccessToken_IsUnauthenticated(string? authorization)
    {
        var headers = authorization is null ? null : new Metadata { { "authorization", authorization } };

        await Errors.ExpectAsync(
            () => Members.MakeLoginTokenAsync(new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = AuthUrl }, headers).ResponseAsync,
            StatusCode.Unauthenticated, "UNAUTHENTICATED");
    }

    [Fact]
    public async Task MakeLoginToken_WhileTheMembersDeletionIsUncommitted_AnswersLikeADeadAccessToken_AndLeavesNoLoginToken()
    {
        // The call checks the access token while the deletion's transaction is still open (on PostgreSQL the member and
        // its token still look live); the login token it then stores must wait for the deletion and find no live member,
        // or the row outlives the deletion's eraser, which has already run.
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member, "jkforum");
        Task<MakeLoginTokenResponse> call;
        await using (var deletion = await Deletion.UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Members.MakeLoginTokenAsync(
                new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = AuthUrl }, Bearer(access)).ResponseAsync);
            if (!await deletion.WaitUntilBlockingAsync(call) && fixture.Database.Provider != "postgres")
            {
                // SQLite shows no waiting statement: give the call time to check the token and reach its write.
                await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(1.5)));
            }

            await deletion.CommitAsync();
        }

        // What MakeLoginToken answers for an access token that is not valid (the member's went with it).
        await Errors.ExpectAsync(() => call, StatusCode.Unauthenticated, "UNAUTHENTICATED");
        Assert.Equal(0, await TestMembers.WithDbAsync(fixture.Server, db => db.Set<Pan.Data.HandOff.StoredLoginToken>().CountAsync(t => t.Uid == member.Uid)));
    }

    [Fact]
    public async Task MakeLoginToken_WithAnAccessTokenOfAnotherApp_IsPermissionDenied()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var shopAccess = await TestMembers.AccessTokenAsync(fixture.Server, member, "shop24h");

        await Errors.ExpectAsync(
            () => Members.MakeLoginTokenAsync(new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = AuthUrl }, Bearer(shopAccess)).ResponseAsync,
            StatusCode.PermissionDenied, "ErrMakeLoginToken.GENERAL_FAILED");
    }

    [Fact]
    public async Task LoginToken_AfterItsLifetime_IsInvalidEverywhere()
    {
        var (member, token) = await MakeAsync();

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        await Errors.ExpectAsync(
            () => Members.ValidateLoginTokenAsync(new ValidateLoginTokenRequest { LoginToken = token, AppId = "shop24h", AppSecret = fixture.ShopSecret }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateLoginToken.GENERAL_INVALID");
        await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal).ResponseAsync,
            StatusCode.Unauthenticated, "ErrAuthToken.LOGIN_TOKEN_INVALID");
    }

    [Fact]
    public async Task AuthToken_ForAnotherUid_IsInvalidAndLeavesTheTokenToItsMember()
    {
        var (member, token) = await MakeAsync();
        var other = await TestMembers.CreateAsync(fixture.Server);

        await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = other.Uid, LoginToken = token }, Internal).ResponseAsync,
            StatusCode.Unauthenticated, "ErrAuthToken.LOGIN_TOKEN_INVALID");
        var auth = await Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal);

        Assert.NotEmpty(auth.AuthToken);
    }

    [Fact]
    public async Task AuthToken_AfterTheMembersSessionsWereRevoked_IsInvalid()
    {
        var (member, token) = await MakeAsync();
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<TokenService>().RevokeMemberAsync(member.Uid, default);
        }

        await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal).ResponseAsync,
            StatusCode.Unauthenticated, "ErrAuthToken.LOGIN_TOKEN_INVALID");
    }

    [Fact]
    public async Task AuthToken_AfterTheMembersSuspension_IsInvalid_AndStaysSoAfterTheRestore()
    {
        var (member, token) = await MakeAsync();
        await TestSuspensions.SuspendAsync(fixture.Server, member.Uid);

        await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal).ResponseAsync,
            StatusCode.Unauthenticated, "ErrAuthToken.LOGIN_TOKEN_INVALID");
        await TestSuspensions.RestoreAsync(fixture.Server, member.Uid);
        await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal).ResponseAsync,
            StatusCode.Unauthenticated, "ErrAuthToken.LOGIN_TOKEN_INVALID");
        Assert.Equal(0, await LoginTokenSessionsAsync(member.Uid));
    }

    /// <summary>
    /// A login token still live when its member is found suspended (its suspension's revocation had not reached it, as a
    /// suspension committing while the exchange runs): the session's INSERT refuses the member, so no auth token comes
    /// back and nothing is written — the token is not spent.
    /// </summary>
    [Fact]
    public async Task AuthToken_OfALiveLoginTokenOfASuspendedMember_IsMemberSuspended_OpensNoSession_AndSpendsNothing()
    {
        var (member, token) = await MakeAsync();
        var until = fixture.Server.Clock.GetUtcNow().AddDays(1);
        await TestMembers.UpdateAsync(fixture.Server, member.Uid, m => m.SuspendedUntil = until);

        var refused = await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal).ResponseAsync,
            StatusCode.PermissionDenied, "MEMBER_SUSPENDED");

        Assert.Equal(Pan.Server.Suspension.MemberSuspendedException.Rfc3339(until), refused.Info().Metadata["suspended_until"]);
        Assert.Equal(0, await LoginTokenSessionsAsync(member.Uid));
        await TestMembers.UpdateAsync(fixture.Server, member.Uid, m => m.SuspendedUntil = null);
        Assert.NotEmpty((await Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal)).AuthToken);
    }

    [Fact]
    public async Task AuthToken_WhileAPasswordChangeOfTheMemberIsUncommitted_OpensNoSessionThatOutlivesIt()
    {
        var (member, token) = await MakeAsync();
        var kept = await TestMembers.AuthTokenAsync(fixture.Server, member);
        Task<AuthTokenResponse> exchanging;
        bool waited;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            // What UpdateCredential's transaction has done by its commit: the member row held, the member's token
            // generation moved on and its sessions but the caller's ended (the one the login token came from among them).
            var db = scope.ServiceProvider.GetRequiredService<Pan.Data.PanDbContext>();
            await using var change = await db.Database.BeginTransactionAsync();
            Assert.True(await Pan.Server.Deletion.LiveMembers.LockAsync(db, member.Uid, default));
            var keptSession = (await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAuthTokenAsync(kept, default))!.SessionId;
            await scope.ServiceProvider.GetRequiredService<Pan.Server.Credentials.CredentialStore>().EndOtherSessionsAsync(member.Uid, keptSession, default);

            exchanging = Task.Run(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal).ResponseAsync);
            waited = await LockWaits.UntilAsync(fixture.Database, 1, exchanging);
            await change.CommitAsync();
        }

        // Either order is fine one after the other: an exchange first opens a session the change then ends, a change
        // first kills the token. What must not be is a session opened from the token that the change did not end.
        try
        {
            var auth = await exchanging;
            await using var scope = fixture.Server.Services.CreateAsyncScope();
            Assert.Null(await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAuthTokenAsync(auth.AuthToken, default));
        }
        catch (RpcException refused) when (refused.Info().Reason == "ErrAuthToken.LOGIN_TOKEN_INVALID")
        {
            // The exchange waited for the change and found the token dead.
        }

        Assert.True(waited || fixture.Database.Provider != "postgres", "on PostgreSQL the exchange waits for the uncommitted change");
    }

    [Fact]
    public async Task AuthToken_WhenTheSigningKeyFallsDueWhileTheLoginTokenIsOut_SignsTheMemberInWithTheNewKey()
    {
        // The login token is made shortly before the signing key is due for rotation, and exchanged just after: the
        // exchange is then the call that creates the next key.
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var key = await scope.ServiceProvider.GetRequiredService<SigningKeyRing>().GetSigningKeyAsync(default);
            var rotation = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<TokenOptions>>().Value.KeyRotation;
            var untilDue = key.Created + rotation - fixture.Server.Clock.GetUtcNow();
            fixture.Server.Clock.Advance(untilDue - TimeSpan.FromMinutes(2));
        }

        var (member, token) = await MakeAsync();
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(3));

        var auth = await Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal);

        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var claims = await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAuthTokenAsync(auth.AuthToken, default);
            Assert.Equal(member.Uid, claims?.Uid);
        }

        Assert.NotEmpty(await TestMembers.AccessTokenAsync(fixture.Server, auth.AuthToken, member, "shop24h"));
    }

    [Fact]
    public async Task AuthToken_WithBadInput_IsInvalidArgumentNamingTheFields()
    {
        var ex = await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = 0, LoginToken = "" }, Internal).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        var garbage = await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = 1, LoginToken = "garbage" }, Internal).ResponseAsync,
            StatusCode.Unauthenticated, "ErrAuthToken.LOGIN_TOKEN_INVALID");

        Assert.Equal(["uid", "login_token"], ex.BadRequest()!.FieldViolations.Select(v => v.Field));
        Assert.NotNull(garbage);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-key-0123456789abcdef0123456789")]
    public async Task AuthToken_WithoutTheInternalKey_IsUnauthenticatedAndConsumesNothing(string? key)
    {
        var (member, token) = await MakeAsync();
        var headers = key is null ? null : new Metadata { { "x-pan-internal-key", key } };

        await Errors.ExpectAsync(() => Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, headers).ResponseAsync,
            StatusCode.Unauthenticated, "UNAUTHENTICATED");
        var auth = await Lever.AuthTokenAsync(new AuthTokenRequest { Uid = member.Uid, LoginToken = token }, Internal);

        Assert.NotEmpty(auth.AuthToken);
    }

    private async Task<(Pan.Data.Members.Member Member, string Token)> MakeAsync()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member, "jkforum");
        var made = await Members.MakeLoginTokenAsync(
            new MakeLoginTokenRequest { AppId = "jkforum", AppSecret = fixture.ForumSecret, AuthUrl = AuthUrl }, Bearer(access));
        return (member, made.LoginToken);
    }

    private Task<int> LoginTokenSessionsAsync(long uid) =>
        TestMembers.WithDbAsync(fixture.Server, db => db.Set<Pan.Data.Tokens.AuthSession>().CountAsync(s => s.Uid == uid && s.AuthMethod == AuthMethods.LoginToken));
}

public sealed class HandOffBehaviour_Sqlite(SqliteAdminFixture f) : HandOffBehaviour<SqliteAdminFixture>(f);

public sealed class HandOffBehaviour_Postgres(PostgresAdminFixture f) : HandOffBehaviour<PostgresAdminFixture>(f);
