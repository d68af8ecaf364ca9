using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Tokens;

/// <summary>AccessToken, ValidateAccessToken and Logout, over gRPC and HTTP/JSON.</summary>
public abstract class SessionRpcBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture, IIsolatedServers
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Grpc => new(Server.Grpc);

    [Fact]
    public async Task AccessToken_WithoutObjectId_IsForTheDefaultMember()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var auth = await TestMembers.AuthTokenAsync(Server, sibling);

        var access = await TestMembers.AccessTokenAsync(Server, auth, member: null);

        var info = (await Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info;
        Assert.Equal(owner.Uid, info.Uid);
    }

    [Fact]
    public async Task AccessToken_ForAnotherMemberOfThePhone_ByObjectId_AndAppByNumber()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);

        var access = await TestMembers.AccessTokenAsync(Server, auth, sibling, appId: "8");

        var info = (await Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info;
        Assert.Equal((sibling.Uid, sibling.ObjectId.ToString("D")), (info.Uid, info.ObjectId));
    }

    [Fact]
    public async Task AccessToken_NoUsableDefault_TakesTheOnlyLiveMember_OrAsksForObjectId()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        await SetDefaultMemberAsync(owner.AccountId, null);

        var only = await TestMembers.AccessTokenAsync(Server, auth, member: null);
        Assert.Equal(owner.Uid, (await Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = only })).Info.Uid);

        await TestMembers.AddToPhoneAsync(Server, owner);
        await SetDefaultMemberAsync(owner.AccountId, null);
        await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(Server, auth, member: null),
            StatusCode.FailedPrecondition, "ErrAccessToken.FAILED");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("nosuchapp")]
    [InlineData("0")]
    [InlineData("99")]
    public async Task AccessToken_MissingOrUnknownApp_IsInvalidArgumentNamingAppId(string appId)
    {
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);

        var ex = await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(Server, auth, owner, appId), StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("app_id", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task AccessToken_MalformedObjectId_IsInvalidArgumentNamingObjectId()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);

        var ex = await Errors.ExpectAsync(
            () => Grpc.AccessTokenAsync(new AccessTokenRequest { AuthToken = auth, ObjectId = "not-a-uuid", AppId = "jkforum" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("object_id", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task AccessToken_ObjectIdNotUnderThePhone_IsNotFoundFailed()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var stranger = await TestMembers.CreateAsync(Server);
        var deleted = await TestMembers.AddToPhoneAsync(Server, owner);
        await TestMembers.UpdateAsync(Server, deleted.Uid, m => m.Deleted = Server.Clock.GetUtcNow());
        var auth = await TestMembers.AuthTokenAsync(Server, owner);

        foreach (var objectId in new[] { stranger.ObjectId, deleted.ObjectId, Guid.NewGuid() })
        {
            var ex = await Errors.ExpectAsync(
                () => Grpc.AccessTokenAsync(new AccessTokenRequest { AuthToken = auth, ObjectId = objectId.ToString(), AppId = "jkforum" }).ResponseAsync,
                StatusCode.NotFound, "ErrAccessToken.FAILED");
            Assert.Equal("1001", ex.Info().Metadata["code"]);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("eyJhbGciOiJIUzUxMiJ9.e30.c2ln")]
    public async Task AccessToken_BadAuthToken_IsUnauthenticatedInvalid(string authToken)
    {
        var ex = await Errors.ExpectAsync(
            () => Grpc.AccessTokenAsync(new AccessTokenRequest { AuthToken = authToken, AppId = "jkforum" }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrAccessToken.INVALID");
        Assert.Equal("1003", ex.Info().Metadata["code"]);
    }

    [Fact]
    public async Task AccessToken_RevokedAuthToken_IsInvalid_AndAnAccessTokenIsNoAuthToken()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        var access = await TestMembers.AccessTokenAsync(Server, auth, owner);

        await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(Server, access, owner), StatusCode.Unauthenticated, "ErrAccessToken.INVALID");
        await Grpc.LogoutAsync(new LogoutRequest { PanAccessToken = access });
        await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(Server, auth, owner), StatusCode.Unauthenticated, "ErrAccessToken.INVALID");
    }

    [Fact]
    public async Task AccessToken_ExpiredAuthToken_IsUnauthenticatedExpired()
    {
        await using var node = await fixture.StartIsolatedAsync();
        var owner = await TestMembers.CreateAsync(node.Server);
        var auth = await TestMembers.AuthTokenAsync(node.Server, owner);

        node.Server.Clock.Advance(TimeSpan.FromDays(30));

        var ex = await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(node.Server, auth, owner), StatusCode.Unauthenticated, "ErrAccessToken.EXPIRED");
        Assert.Equal("1002", ex.Info().Metadata["code"]);
    }

    [Fact]
    public async Task AccessToken_OverHttpJson_IssuesAToken_AndReportsSeedErrors()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);

        using var ok = await Server.Http.PostAsJsonAsync("/v2/member/access-token", new { authToken = auth, appId = "jkforum" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var access = (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
        Assert.Equal(owner.Uid, (await Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid);

        using var bad = await Server.Http.PostAsJsonAsync("/v2/member/access-token", new { authToken = "nope", appId = "jkforum" });
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal("ErrAccessToken.INVALID", await JsonErrors.ReasonAsync(bad));
    }

    [Fact]
    public async Task ValidateAccessToken_ReturnsTokenInfo()
    {
        var owner = await TestMembers.CreateAsync(Server, m => m.Username = TestMembers.UniqueName("user"));
        var access = await TestMembers.AccessTokenAsync(Server, owner);

        var info = (await Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info;

        Assert.Equal(owner.ObjectId.ToString("D"), info.ObjectId);
        Assert.Equal((owner.Uid, owner.Username, owner.DisplayName), (info.Uid, info.Username, info.DisplayName));
        Assert.Equal((0L, ""), (info.GroupId, info.GroupName));
        var me = (await Grpc.MeAsync(new MeRequest { AccessToken = access })).User;
        Assert.False(string.IsNullOrEmpty(info.PhoneId));
        Assert.Equal(me.PhoneId, info.PhoneId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    public async Task ValidateAccessToken_UnknownOrMalformed_IsTokenInvalid(string token)
    {
        var ex = await Errors.ExpectAsync(
            () => Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = token }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
        Assert.Equal("1001", ex.Info().Metadata["code"]);
    }

    [Fact]
    public async Task ValidateAccessToken_ExpiredDeletedOrRevokedMember_IsTokenInvalid()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var expiring = await TestMembers.AccessTokenAsync(Server, owner);
        Server.Clock.Advance(TimeSpan.FromHours(24));
        await ExpectValidateInvalid(expiring);

        var deletedMember = await TestMembers.CreateAsync(Server);
        var ofDeleted = await TestMembers.AccessTokenAsync(Server, deletedMember);
        await TestMembers.UpdateAsync(Server, deletedMember.Uid, m => m.Deleted = Server.Clock.GetUtcNow());
        await ExpectValidateInvalid(ofDeleted);

        var generation = await TestMembers.AccessTokenAsync(Server, owner);
        await TestMembers.UpdateAsync(Server, owner.Uid, m => m.TokenGeneration++);
        await ExpectValidateInvalid(generation);
    }

    [Fact]
    public async Task ValidateAccessToken_OverHttpJson()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, owner);

        using var ok = await Server.Http.PostAsJsonAsync("/v2/member/validate-access-token", new { accessToken = access });
        var body = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(owner.ObjectId.ToString("D"), body.GetProperty("info").GetProperty("objectId").GetString());

        using var bad = await Server.Http.PostAsJsonAsync("/v2/member/validate-access-token", new { accessToken = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal("ErrValidateAccessToken.TOKEN_INVALID", await JsonErrors.ReasonAsync(bad));
    }

    [Fact]
    public async Task Logout_RevokesTheSession_ItsAuthTokenAndEveryAccessTokenFromIt_OnlyThatSession()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        var forum = await TestMembers.AccessTokenAsync(Server, auth, owner);
        var shop = await TestMembers.AccessTokenAsync(Server, auth, sibling, "shop24h");
        var otherDevice = await TestMembers.AccessTokenAsync(Server, owner);

        await Grpc.LogoutAsync(new LogoutRequest { PanAccessToken = forum });

        await ExpectValidateInvalid(forum);
        await ExpectValidateInvalid(shop);
        await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(Server, auth, owner), StatusCode.Unauthenticated, "ErrAccessToken.INVALID");
        await Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = otherDevice });
    }

    [Fact]
    public async Task Logout_Token2OfTheSamePhone_IsRevokedToo_ButAnotherPhonesIsIgnored()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var stranger = await TestMembers.CreateAsync(Server);
        var secondAuth = await TestMembers.AuthTokenAsync(Server, owner);
        var thirdAccess = await TestMembers.AccessTokenAsync(Server, owner);
        var strangerAuth = await TestMembers.AuthTokenAsync(Server, stranger);

        await Grpc.LogoutAsync(new LogoutRequest { PanAccessToken = await TestMembers.AccessTokenAsync(Server, owner), Token2 = secondAuth });
        await Grpc.LogoutAsync(new LogoutRequest { PanAccessToken = await TestMembers.AccessTokenAsync(Server, owner), Token2 = thirdAccess });
        await Grpc.LogoutAsync(new LogoutRequest { PanAccessToken = await TestMembers.AccessTokenAsync(Server, owner), Token2 = strangerAuth });
        await Grpc.LogoutAsync(new LogoutRequest { PanAccessToken = await TestMembers.AccessTokenAsync(Server, owner), Token2 = "garbage" });

        await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(Server, secondAuth, owner), StatusCode.Unauthenticated, "ErrAccessToken.INVALID");
        await ExpectValidateInvalid(thirdAccess);
        await TestMembers.AccessTokenAsync(Server, strangerAuth, stranger);
    }

    [Fact]
    public async Task Logout_InvalidOrAlreadyRevokedToken_IsUnauthenticatedFailed()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, owner);
        await Grpc.LogoutAsync(new LogoutRequest { PanAccessToken = access });

        foreach (var token in new[] { access, "", "garbage" })
        {
            var ex = await Errors.ExpectAsync(() => Grpc.LogoutAsync(new LogoutRequest { PanAccessToken = token }).ResponseAsync,
                StatusCode.Unauthenticated, "LogoutResponse.Error.Failed");
            Assert.Equal("1001", ex.Info().Metadata["code"]);
        }
    }

    [Fact]
    public async Task Logout_OverHttpJson()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, owner);

        using var ok = await Server.Http.PostAsJsonAsync("/v2/member/logout", new { panAccessToken = access });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var again = await Server.Http.PostAsJsonAsync("/v2/member/logout", new { panAccessToken = access });
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        Assert.Equal("LogoutResponse.Error.Failed", await JsonErrors.ReasonAsync(again));
    }

    [Fact]
    public async Task TwoNodes_LogoutOnOne_IsRejectedByTheOther()
    {
        await using var second = await fixture.StartNodeAsync();
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        var access = await TestMembers.AccessTokenAsync(second, auth, owner);
        await Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access });

        await new MemberServiceV2.MemberServiceV2Client(second.Grpc).LogoutAsync(new LogoutRequest { PanAccessToken = access });

        await ExpectValidateInvalid(access);
        await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(Server, auth, owner), StatusCode.Unauthenticated, "ErrAccessToken.INVALID");
    }

    [Fact]
    public async Task DatabaseOutage_IsUnavailable_IssuesNoToken_AndTheNodeRecoversByItself_OnPostgres()
    {
        if (fixture.Database.Provider != "postgres")
        {
            // Why: a SQLite database is a local file of the one Pan process; it has no connection to lose.
            return;
        }

        var (relay, relayed) = TcpRelay.InFrontOf(fixture.Database);
        await using var _ = relay;
        await using var node = await PanServer.StartAsync(relayed, clock: Server.Clock);
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        await TestMembers.AccessTokenAsync(node, auth, owner);

        relay.Cut();
        var outage = await Assert.ThrowsAsync<RpcException>(() => TestMembers.AccessTokenAsync(node, auth, owner));
        Assert.Equal(StatusCode.Unavailable, outage.StatusCode);
        var again = await Assert.ThrowsAsync<RpcException>(() => TestMembers.AccessTokenAsync(node, auth, owner));
        Assert.Equal(StatusCode.Unavailable, again.StatusCode);
        var issued = await TestMembers.WithDbAsync(Server, db => db.Set<Pan.Data.Tokens.StoredAccessToken>().CountAsync(t => t.Uid == owner.Uid));

        relay.Restore();
        var access = await TestMembers.AccessTokenAsync(node, auth, owner);
        await Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access });
        Assert.Equal(1, issued);
    }

    private Task<RpcException> ExpectValidateInvalid(string token) =>
        Errors.ExpectAsync(() => Grpc.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = token }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");

    private Task<int> SetDefaultMemberAsync(long accountId, long? uid) =>
        TestMembers.WithDbAsync(Server, async db =>
        {
            var account = await db.Accounts.SingleAsync(a => a.Id == accountId);
            account.DefaultMemberUid = uid;
            return await db.SaveChangesAsync();
        });
}

public sealed class SessionRpcBehaviour_Sqlite(TokensSqliteFixture f) : SessionRpcBehaviour<TokensSqliteFixture>(f);

public sealed class SessionRpcBehaviour_Postgres(TokensPostgresFixture f) : SessionRpcBehaviour<TokensPostgresFixture>(f);
