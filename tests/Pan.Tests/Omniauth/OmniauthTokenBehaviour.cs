using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Pan.General.Member;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Omniauth;

/// <summary>refresh_token (rotation, reuse detection, revocation by logout and member revocation) and email_existed (answers, rate limits).</summary>
public abstract class OmniauthTokenBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OmniauthFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Members => new(Server.Grpc);

    private async Task<JsonElement> SignUpAsync(SocialUser? user = null)
    {
        var login = fixture.Providers.SignIn("facebook", user ?? SocialUsers.New());
        var (status, body, _) = await OmniauthFixture.PostAsync(Server, "through_omniauth", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["provider"] = login.Provider,
            ["omniauth_token"] = login.Token,
        });
        Assert.Equal(200, status);
        return body.GetProperty("data");
    }

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> RefreshAsync(string? refreshToken, string client = OmniauthFixture.Client, string? secret = null) =>
        OmniauthFixture.PostAsync(Server, "refresh_token", new Dictionary<string, string?>
        {
            ["client_id"] = client,
            ["client_secret"] = secret ?? fixture.Secret,
            ["refresh_token"] = refreshToken,
        });

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> RefreshOnAsync(PanServer node, string? refreshToken) =>
        OmniauthFixture.PostAsync(node, "refresh_token", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["refresh_token"] = refreshToken,
        });

    private async Task<bool> AccessWorksAsync(string? accessToken, PanServer? node = null)
    {
        try
        {
            await new MemberServiceV2.MemberServiceV2Client((node ?? Server).Grpc).MeAsync(new MeRequest { AccessToken = accessToken, AppId = OmniauthFixture.Client });
            return true;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    private static void AssertInvalidRefresh((int Status, JsonElement Body, HttpResponseMessage _) answer)
    {
        Assert.Equal(403, answer.Status);
        Assert.Equal(403, answer.Body.GetProperty("code").GetInt32());
        Assert.Equal("Invalid refresh token", answer.Body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task RefreshToken_Rotates_AndAnswersTheSeedsShape()
    {
        var data = await SignUpAsync();

        var (status, body, _) = await RefreshAsync(data.GetProperty("refresh_token").GetString());

        Assert.Equal(200, status);
        SeedShape.AssertMatches(body);
        var next = body.GetProperty("data");
        Assert.Equal(data.GetProperty("uuid").GetString(), next.GetProperty("uuid").GetString());
        Assert.NotEqual(data.GetProperty("refresh_token").GetString(), next.GetProperty("refresh_token").GetString());
        Assert.NotEqual(data.GetProperty("access_token").GetString(), next.GetProperty("access_token").GetString());
        Assert.Equal(172800, next.GetProperty("expires_in").GetInt32());
        Assert.True(await AccessWorksAsync(next.GetProperty("access_token").GetString()));
        Assert.Equal(200, (await RefreshAsync(next.GetProperty("refresh_token").GetString())).Status);
    }

    [Fact]
    public async Task RefreshToken_ReusingASpentToken_RevokesTheWholeFamily()
    {
        var data = await SignUpAsync();
        var first = data.GetProperty("refresh_token").GetString();
        var rotated = (await RefreshAsync(first)).Body.GetProperty("data");

        var reuse = await RefreshAsync(first);

        AssertInvalidRefresh(reuse);
        AssertInvalidRefresh(await RefreshAsync(rotated.GetProperty("refresh_token").GetString()));
        Assert.False(await AccessWorksAsync(rotated.GetProperty("access_token").GetString()));
        Assert.False(await AccessWorksAsync(data.GetProperty("access_token").GetString()));
    }

    /// <summary>
    /// Two nodes on one database: a refresh on one node, then the same (now spent) token on the other, is a reuse there
    /// too and ends the family on both — the rotated tokens the first node handed out included.
    /// </summary>
    [Fact]
    public async Task TwoNodes_ARefreshOnOne_ThenTheSameTokenOnTheOther_IsRefused_AndEndsTheFamilyOnBoth()
    {
        await using var other = await fixture.StartNodeAsync(new Dictionary<string, string?>(), Server.Clock);
        var data = await SignUpAsync();
        var first = data.GetProperty("refresh_token").GetString();
        var (status, body, _) = await RefreshAsync(first);
        Assert.Equal(200, status);
        var rotated = body.GetProperty("data");
        Assert.True(await AccessWorksAsync(rotated.GetProperty("access_token").GetString()));

        AssertInvalidRefresh(await RefreshOnAsync(other, first));

        AssertInvalidRefresh(await RefreshAsync(rotated.GetProperty("refresh_token").GetString()));
        AssertInvalidRefresh(await RefreshOnAsync(other, rotated.GetProperty("refresh_token").GetString()));
        Assert.False(await AccessWorksAsync(rotated.GetProperty("access_token").GetString()));
        Assert.False(await AccessWorksAsync(rotated.GetProperty("access_token").GetString(), other));
    }

    /// <summary>The other way round: a family started on one node is rotated on the other, and the spent token is then refused on the first.</summary>
    [Fact]
    public async Task TwoNodes_ARefreshOnTheOther_ThenTheSpentTokenBackOnTheFirst_IsRefused_AndEndsTheFamily()
    {
        await using var other = await fixture.StartNodeAsync(new Dictionary<string, string?>(), Server.Clock);
        var data = await SignUpAsync();
        var first = data.GetProperty("refresh_token").GetString();
        var (status, body, _) = await RefreshOnAsync(other, first);
        Assert.Equal(200, status);
        var rotated = body.GetProperty("data");
        Assert.True(await AccessWorksAsync(rotated.GetProperty("access_token").GetString(), other));

        AssertInvalidRefresh(await RefreshAsync(first));

        AssertInvalidRefresh(await RefreshOnAsync(other, rotated.GetProperty("refresh_token").GetString()));
        Assert.False(await AccessWorksAsync(rotated.GetProperty("access_token").GetString(), other));
        Assert.False(await AccessWorksAsync(data.GetProperty("access_token").GetString()));
    }

    [Fact]
    public async Task RefreshToken_TenParallelRefreshesOfOneToken_AreAReuse_AndLeaveNothingOfTheFamilyWorking()
    {
        // A stolen refresh token raced against the app: at most one refresh wins the redemption, every loser is a reuse,
        // and a reuse ends the family, the winner's new tokens included.
        var data = await SignUpAsync();
        var token = data.GetProperty("refresh_token").GetString();

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => RefreshAsync(token))));

        Assert.True(answers.Count(a => a.Status == 200) <= 1, string.Join(",", answers.Select(a => a.Status)));
        Assert.All(answers.Where(a => a.Status != 200), AssertInvalidRefresh);
        foreach (var won in answers.Where(a => a.Status == 200).Select(a => a.Body.GetProperty("data")))
        {
            AssertInvalidRefresh(await RefreshAsync(won.GetProperty("refresh_token").GetString()));
            Assert.False(await AccessWorksAsync(won.GetProperty("access_token").GetString()));
        }

        Assert.False(await AccessWorksAsync(data.GetProperty("access_token").GetString()));
    }

    [Fact]
    public async Task RefreshToken_ReusingASpentToken_EndsTheMembersPasses()
    {
        // SECURITY 12 and 14: whoever held the family's tokens may have fetched the member's passes with them.
        var data = await SignUpAsync();
        var first = data.GetProperty("refresh_token").GetString();
        var access = (await RefreshAsync(first)).Body.GetProperty("data").GetProperty("access_token").GetString();
        var card = await Members.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = access });
        var qr = await Members.GetQRCodeAsync(new GetQRCodeRequest { PanAccessToken = access });
        var scanner = new Metadata { { "x-pan-app-id", OmniauthFixture.OtherClient }, { "x-pan-app-secret", fixture.OtherSecret } };
        var scan = new ValidatePassportTokenRequest { PassportToken = card.PassportToken };
        var check = new ValidateQRCodeRequest { Uuid = qr.Uuid, Uid = qr.Uid, VerifyCode = qr.VerifyCode };
        await Members.ValidatePassportTokenAsync(scan, scanner);
        await Members.ValidateQRCodeAsync(check);

        AssertInvalidRefresh(await RefreshAsync(first));

        await Errors.ExpectAsync(() => Members.ValidatePassportTokenAsync(scan, scanner).ResponseAsync, StatusCode.NotFound, "PASSPORT_TOKEN_INVALID");
        await Errors.ExpectAsync(() => Members.ValidateQRCodeAsync(check).ResponseAsync, StatusCode.NotFound, "ValidateQRCodeResponse.Error__Failed");
    }

    [Fact]
    public async Task RefreshToken_OfAnotherClient_UnknownOrMalformed_IsRefused()
    {
        var data = await SignUpAsync();
        var token = data.GetProperty("refresh_token").GetString();

        AssertInvalidRefresh(await RefreshAsync(token, OmniauthFixture.OtherClient, fixture.OtherSecret));
        AssertInvalidRefresh(await RefreshAsync(new string('a', 64)));
        AssertInvalidRefresh(await RefreshAsync("not-a-token"));
        var missing = await RefreshAsync(null);
        Assert.Equal(400, missing.Status);
        Assert.Contains("refresh_token", missing.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(200, (await RefreshAsync(token)).Status);
    }

    [Fact]
    public async Task RefreshToken_WithAWrongClientSecret_IsNotAuthorizedClient()
    {
        var data = await SignUpAsync();

        var (status, body, _) = await RefreshAsync(data.GetProperty("refresh_token").GetString(), secret: fixture.OtherSecret);

        Assert.Equal(403, status);
        Assert.Equal("Not authorized client", body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Logout_WithTheAccessToken_EndsTheRefreshTokenToo()
    {
        var data = await SignUpAsync();

        await Members.LogoutAsync(new LogoutRequest { PanAccessToken = data.GetProperty("access_token").GetString() });

        Assert.False(await AccessWorksAsync(data.GetProperty("access_token").GetString()));
        AssertInvalidRefresh(await RefreshAsync(data.GetProperty("refresh_token").GetString()));
    }

    [Fact]
    public async Task RevokingTheMember_AsDeletionAndPasswordChangesDo_EndsTheRefreshToken()
    {
        var data = await SignUpAsync();
        var uuid = Guid.Parse(data.GetProperty("uuid").GetString()!);
        var uid = await TestMembers.WithDbAsync(Server, db => Task.FromResult(db.Members.Single(m => m.ObjectId == uuid).Uid));

        await using (var scope = Server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<TokenService>().RevokeMemberAsync(uid, default);
        }

        AssertInvalidRefresh(await RefreshAsync(data.GetProperty("refresh_token").GetString()));
    }

    [Fact]
    public async Task DeletingTheMember_EndsItsTokens_AndFreesTheProviderIdentityForANewMember()
    {
        var user = SocialUsers.New();
        var data = await SignUpAsync(user);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
            var caller = await tokens.ValidateAccessTokenAsync(data.GetProperty("access_token").GetString(), default);
            var verify = await tokens.IssueVerifyTokenAsync(caller!.Uid, VerifyPurposes.Delete, default);
            await scope.ServiceProvider.GetRequiredService<Pan.Server.Deletion.MemberDeletion>().DeleteMemberAsync(caller, verify.Token, default);
        }

        AssertInvalidRefresh(await RefreshAsync(data.GetProperty("refresh_token").GetString()));
        Assert.False(await AccessWorksAsync(data.GetProperty("access_token").GetString()));
        var again = await SignUpAsync(user);
        Assert.NotEqual(data.GetProperty("uuid").GetString(), again.GetProperty("uuid").GetString());
    }

    [Fact]
    public async Task RefreshToken_AfterTheFamilyExpired_IsRefused()
    {
        var clock = new FakeTimeProvider(Server.Clock.GetUtcNow());
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Omniauth:RefreshTokenDays"] = "1" }, clock);
        var login = fixture.Providers.SignIn("facebook", SocialUsers.New());
        var (_, body, _) = await OmniauthFixture.PostAsync(node, "through_omniauth", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["provider"] = login.Provider,
            ["omniauth_token"] = login.Token,
        });
        var token = body.GetProperty("data").GetProperty("refresh_token").GetString();

        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        var (status, answer, _) = await OmniauthFixture.PostAsync(node, "refresh_token", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["refresh_token"] = token,
        });

        Assert.Equal(403, status);
        Assert.Equal("Invalid refresh token", answer.GetProperty("message").GetString());
    }

    [Fact]
    public async Task EmailExisted_AnswersWhetherALiveMemberHasTheEmail_IgnoringCase()
    {
        var user = SocialUsers.New();
        await SignUpAsync(user);

        var known = await EmailExistedAsync(Server, user.Email!.ToUpperInvariant());
        var unknown = await EmailExistedAsync(Server, $"nobody{Guid.NewGuid():N}@example.com");

        Assert.Equal(200, known.Status);
        Assert.Equal("""{"code":200,"message":"ok","data":true}""", known.Body.GetRawText());
        Assert.Equal("""{"code":200,"message":"ok","data":false}""", unknown.Body.GetRawText());
    }

    [Fact]
    public async Task EmailExisted_WithABadEmailOrClient_IsRefused()
    {
        var bad = await EmailExistedAsync(Server, "not an email");
        var unauthorized = await OmniauthFixture.PostAsync(Server, "email_existed", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = "wrong",
            ["email"] = "a@example.com",
        }, form: true);

        Assert.Equal(400, bad.Status);
        Assert.Contains("email", bad.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(403, unauthorized.Status);
        Assert.Equal("Not authorized client", unauthorized.Body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task EmailExisted_PerIpLimit_IsSharedByEveryNode_AndAnswers429WithRetryAfter()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 3, 1, 10, 15, 0, TimeSpan.Zero));
        var limits = new Dictionary<string, string?> { ["Pan:Omniauth:EmailExisted:PerIpPerHour"] = "3" };
        await using var a = await fixture.StartNodeAsync(limits, clock);
        await using var b = await fixture.StartNodeAsync(limits, clock);

        var answers = new[] { await EmailExistedAsync(a, "x@example.com"), await EmailExistedAsync(b, "x@example.com"), await EmailExistedAsync(a, "x@example.com") };
        var over = await EmailExistedAsync(b, "x@example.com");

        Assert.All(answers, x => Assert.Equal(200, x.Status));
        Assert.Equal(429, over.Status);
        Assert.Equal("""{"code":429,"message":"Too many requests"}""", over.Body.GetRawText());
        Assert.Equal(TimeSpan.FromMinutes(45), over.Response.Headers.RetryAfter?.Delta);
        clock.Advance(TimeSpan.FromMinutes(45));
        Assert.Equal(200, (await EmailExistedAsync(a, "x@example.com")).Status);
    }

    [Fact]
    public async Task EmailExisted_PerClientLimit_CountsOnlyThatClient()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 3, 1, 10, 0, 0, TimeSpan.Zero));
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Omniauth:EmailExisted:PerClientPerHour"] = "2" }, clock);

        var first = await EmailExistedAsync(node, "y@example.com");
        var second = await EmailExistedAsync(node, "y@example.com");
        var third = await EmailExistedAsync(node, "y@example.com");
        var otherClient = await EmailExistedAsync(node, "y@example.com", OmniauthFixture.OtherClient, fixture.OtherSecret);

        Assert.Equal([200, 200, 429, 200], new[] { first.Status, second.Status, third.Status, otherClient.Status });
    }

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> EmailExistedAsync(
        PanServer on, string email, string client = OmniauthFixture.Client, string? secret = null) =>
        OmniauthFixture.PostAsync(on, "email_existed", new Dictionary<string, string?>
        {
            ["client_id"] = client,
            ["client_secret"] = secret ?? fixture.Secret,
            ["email"] = email,
        });
}

public sealed class OmniauthTokenBehaviour_Sqlite(SqliteOmniauthFixture f) : OmniauthTokenBehaviour<SqliteOmniauthFixture>(f);

public sealed class OmniauthTokenBehaviour_Postgres(PostgresOmniauthFixture f) : OmniauthTokenBehaviour<PostgresOmniauthFixture>(f);
