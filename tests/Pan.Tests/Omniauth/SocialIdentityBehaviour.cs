using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Pan.Data.Audit;
using Pan.General.Member;
using Pan.Server.Credentials;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Omniauth;

/// <summary>
/// ListSocialIdentities and UnlinkSocialIdentity (Pan extensions): a member sees the provider identities bound to it
/// and removes one, which ends its social-login tokens at once on every node.
/// </summary>
public abstract class SocialIdentityBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OmniauthFixture
{
    private const string NotFound = "UnlinkSocialIdentityResponse.Error.IdentityNotFound";

    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Members => new(Server.Grpc);

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> ThroughOmniauthAsync(
        string provider, SocialUser user, string? password = null, PanServer? on = null)
    {
        var login = fixture.Providers.SignIn(provider, user);
        return OmniauthFixture.PostAsync(on ?? Server, "through_omniauth", fixture.SignInFields(login, password: password));
    }

    private async Task<JsonElement> SignedInAsync(string provider, SocialUser user, string? password = null)
    {
        var (status, body, _) = await ThroughOmniauthAsync(provider, user, password);
        Assert.True(status == 200, $"unexpected {status} {body}");
        return body.GetProperty("data");
    }

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> RefreshAsync(PanServer on, string? refreshToken) =>
        OmniauthFixture.PostAsync(on, "refresh_token", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["refresh_token"] = refreshToken,
        });

    private static async Task<bool> AccessWorksAsync(PanServer on, string? accessToken)
    {
        try
        {
            await new MemberServiceV2.MemberServiceV2Client(on.Grpc).MeAsync(new MeRequest { AccessToken = accessToken, AppId = OmniauthFixture.Client });
            return true;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    private async Task<List<(string Provider, string UserId)>> ListedAsync(string? accessToken) =>
        (await Members.ListSocialIdentitiesAsync(new ListSocialIdentitiesRequest { AccessToken = accessToken })).Identities
        .Select(i => (i.Provider, i.ProviderUserId)).ToList();

    [Fact]
    public async Task List_ShowsTheCallersBindings_OldestFirst_AndNeverAnotherMembers()
    {
        var (member, _, password) = await SocialUsers.MemberWithEmailAndPasswordAsync(Server);
        var facebook = SocialUsers.New(member.Email);
        var google = SocialUsers.New(member.Email);
        var access = (await SignedInAsync("facebook", facebook, password)).GetProperty("access_token").GetString();
        await SignedInAsync("google_oauth2", google, password);
        var other = SocialUsers.New();
        var otherAccess = (await SignedInAsync("twitter", other)).GetProperty("access_token").GetString();

        var listed = (await Members.ListSocialIdentitiesAsync(new ListSocialIdentitiesRequest { AccessToken = access })).Identities;

        Assert.Equal([("facebook", facebook.Id), ("google_oauth2", google.Id)], listed.Select(i => (i.Provider, i.ProviderUserId)));
        var now = Server.Clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.All(listed, i => Assert.Equal((now, now), (i.Created.Seconds, i.LastUsed.Seconds)));
        Assert.Equal([("twitter", other.Id)], await ListedAsync(otherAccess));
        await Errors.ExpectAsync(() => Members.ListSocialIdentitiesAsync(new ListSocialIdentitiesRequest { AccessToken = new string('a', 64) }).ResponseAsync,
            StatusCode.Unauthenticated, "ListSocialIdentitiesResponse.Error.TokenInvalid");
        var missing = await Assert.ThrowsAsync<RpcException>(() => Members.ListSocialIdentitiesAsync(new ListSocialIdentitiesRequest()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);
        Assert.Equal("access_token", Assert.Single(missing.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task Unlink_RemovesTheBinding_EndsItsTokensAtOnceOnAnotherNode_AndTheUserIsUnboundAgain()
    {
        var user = SocialUsers.New();
        var data = await SignedInAsync("facebook", user);
        var uuid = data.GetProperty("uuid").GetString();
        var uid = await TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.ObjectId == Guid.Parse(uuid!)).Select(m => m.Uid).SingleAsync());
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?>(), new FakeTimeProvider(Server.Clock.GetUtcNow()));
        // The other node has already used the family (its caches hold it) before the unlink.
        var rotated = await RefreshAsync(node, data.GetProperty("refresh_token").GetString());
        Assert.Equal(200, rotated.Status);
        var refresh = rotated.Body.GetProperty("data").GetProperty("refresh_token").GetString();
        var access = rotated.Body.GetProperty("data").GetProperty("access_token").GetString();
        Assert.True(await AccessWorksAsync(node, access));
        // A session opened otherwise (here: issued to the member directly) is not a social-login one and stays.
        var other = await OtherSessionAccessAsync(uid);

        await Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = access, Provider = "facebook" });

        var (status, body, _) = await RefreshAsync(node, refresh);
        Assert.Equal((403, "Invalid refresh token"), (status, body.GetProperty("message").GetString()));
        Assert.False(await AccessWorksAsync(Server, access));
        Assert.False(await AccessWorksAsync(node, access));
        Assert.Empty(await ListedAsync(other));
        Assert.Contains(await AuditAsync(uid), e => e is { Action: "social.unlink", Outcome: "ok" });
        // The provider user is bound to nobody again: its email is the member's verified address, so it now needs the
        // member's password (which this member has none of) instead of signing the member in.
        var again = await ThroughOmniauthAsync("facebook", user);
        Assert.Equal((409, 4028), (again.Status, again.Body.GetProperty("code").GetInt32()));
    }

    /// <summary>
    /// An unlink ends the social-login sessions its provider opened, and only those: a sign-in of the same member through
    /// another provider it keeps goes on (its refresh token still rotates, its access token still works).
    /// </summary>
    [Fact]
    public async Task Unlink_EndsTheSessionsOfThatProviderOnly_AnotherProvidersSignInGoesOn()
    {
        var (member, _, password) = await SocialUsers.MemberWithEmailAndPasswordAsync(Server);
        var facebook = await SignedInAsync("facebook", SocialUsers.New(member.Email), password);
        var google = await SignedInAsync("google_oauth2", SocialUsers.New(member.Email), password);

        await Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = facebook.GetProperty("access_token").GetString(), Provider = "facebook" });

        Assert.False(await AccessWorksAsync(Server, facebook.GetProperty("access_token").GetString()));
        Assert.Equal(403, (await RefreshAsync(Server, facebook.GetProperty("refresh_token").GetString())).Status);
        Assert.True(await AccessWorksAsync(Server, google.GetProperty("access_token").GetString()));
        var rotated = await RefreshAsync(Server, google.GetProperty("refresh_token").GetString());
        Assert.Equal(200, rotated.Status);
        Assert.True(await AccessWorksAsync(Server, rotated.Body.GetProperty("data").GetProperty("access_token").GetString()));

        // The rotated family still belongs to google: unlinking google ends it.
        await Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = rotated.Body.GetProperty("data").GetProperty("access_token").GetString(), Provider = "google_oauth2" });
        Assert.Equal(403, (await RefreshAsync(Server, rotated.Body.GetProperty("data").GetProperty("refresh_token").GetString())).Status);
    }

    /// <summary>A family issued before its provider was recorded may be the unlinked identity's: any unlink ends it.</summary>
    [Fact]
    public async Task Unlink_EndsAFamilyThatNamesNoProvider_AsAnOlderNodeLeftIt()
    {
        var (member, _, password) = await SocialUsers.MemberWithEmailAndPasswordAsync(Server);
        var facebook = await SignedInAsync("facebook", SocialUsers.New(member.Email), password);
        var google = await SignedInAsync("google_oauth2", SocialUsers.New(member.Email), password);
        await TestMembers.WithDbAsync(Server, db => db.Set<Pan.Data.Omniauth.OmniauthRefreshToken>()
            .Where(t => t.Uid == member.Uid && t.Provider == "google_oauth2")
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.Provider, (string?)null)));

        await Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = facebook.GetProperty("access_token").GetString(), Provider = "facebook" });

        Assert.False(await AccessWorksAsync(Server, google.GetProperty("access_token").GetString()));
        Assert.Equal(403, (await RefreshAsync(Server, google.GetProperty("refresh_token").GetString())).Status);
    }

    [Fact]
    public async Task Unlink_OfAnUnknownUnboundOrAnotherMembersProvider_IsOneNotFound_ChangingNothing()
    {
        var (member, _, password) = await SocialUsers.MemberWithEmailAndPasswordAsync(Server);
        var mine = SocialUsers.New(member.Email);
        var data = await SignedInAsync("facebook", mine, password);
        var access = data.GetProperty("access_token").GetString();
        var otherAccess = (await SignedInAsync("google_oauth2", SocialUsers.New())).GetProperty("access_token").GetString();

        foreach (var (token, provider) in new[] { (access, "myspace"), (access, "google_oauth2"), (otherAccess, "facebook"), (access, new string('x', 5000)) })
        {
            var error = await Errors.ExpectAsync(() => Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = token, Provider = provider }).ResponseAsync,
                StatusCode.NotFound, NotFound);
            Assert.Equal("The member has no identity of this provider.", error.Status.Detail);
        }

        Assert.Equal([("facebook", mine.Id)], await ListedAsync(access));
        Assert.Single(await ListedAsync(otherAccess));
        Assert.Equal(200, (await RefreshAsync(Server, data.GetProperty("refresh_token").GetString())).Status);
        var missing = await Assert.ThrowsAsync<RpcException>(() => Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = access }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);
        Assert.Equal("provider", Assert.Single(missing.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task Unlink_OfTheMembersLastWayIn_IsRefused_UntilItHasAnother()
    {
        // A member created by a provider that does not vouch for the email: no phone, no password, no verified email.
        var user = SocialUsers.New(verified: false);
        var data = await SignedInAsync("google_oauth2", user);
        var access = data.GetProperty("access_token").GetString();
        Assert.False(data.GetProperty("confirmed").GetBoolean());

        await Errors.ExpectAsync(() => Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = access, Provider = "google_oauth2" }).ResponseAsync,
            StatusCode.FailedPrecondition, "UnlinkSocialIdentityResponse.Error.LastWayIn");

        Assert.Single(await ListedAsync(access));
        Assert.True(await AccessWorksAsync(Server, access));
        var uid = (await Members.MeAsync(new MeRequest { AccessToken = access, AppId = OmniauthFixture.Client })).User.Uid;
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<CredentialStore>().SetFirstPasswordAsync(uid, "correct horse battery staple 42", default));
        }

        await Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = access, Provider = "google_oauth2" });
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<Pan.Data.Omniauth.SocialIdentity>().CountAsync(i => i.Uid == uid)));
    }

    [Fact]
    public async Task ADeletedMembersToken_CanNeitherListNorUnlink()
    {
        var data = await SignedInAsync("facebook", SocialUsers.New());
        var access = data.GetProperty("access_token").GetString();
        long uid;
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
            var caller = await tokens.ValidateAccessTokenAsync(access, default);
            uid = caller!.Uid;
            var verify = await tokens.IssueVerifyTokenAsync(uid, VerifyPurposes.Delete, default);
            await scope.ServiceProvider.GetRequiredService<Pan.Server.Deletion.MemberDeletion>().DeleteMemberAsync(caller, verify.Token, default);
        }

        await Errors.ExpectAsync(() => Members.ListSocialIdentitiesAsync(new ListSocialIdentitiesRequest { AccessToken = access }).ResponseAsync,
            StatusCode.Unauthenticated, "ListSocialIdentitiesResponse.Error.TokenInvalid");
        await Errors.ExpectAsync(() => Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = access, Provider = "facebook" }).ResponseAsync,
            StatusCode.Unauthenticated, "UnlinkSocialIdentityResponse.Error.TokenInvalid");
        Assert.DoesNotContain(await AuditAsync(uid), e => e.Action == "social.unlink");
    }

    [Fact]
    public async Task ExportMyData_AfterAnUnlink_ListsWhatListSocialIdentitiesLists()
    {
        var (member, _, password) = await SocialUsers.MemberWithEmailAndPasswordAsync(Server);
        var facebook = SocialUsers.New(member.Email);
        var google = SocialUsers.New(member.Email);
        var access = (await SignedInAsync("facebook", facebook, password)).GetProperty("access_token").GetString();
        var googleAccess = (await SignedInAsync("google_oauth2", google, password)).GetProperty("access_token").GetString();

        Assert.Equal(2, (await ListedAsync(access)).Count);
        await Members.UnlinkSocialIdentityAsync(new UnlinkSocialIdentityRequest { AccessToken = access, Provider = "facebook" });
        var other = await OtherSessionAccessAsync(member.Uid);

        Assert.Equal([("google_oauth2", google.Id)], await ListedAsync(other));
        Assert.Equal(await ListedAsync(other), await ExportedAsync(other, member.Uid));
        Assert.True(await AccessWorksAsync(Server, googleAccess));
    }

    [Fact]
    public async Task ThroughOmniauth_WaitingOnAnUnlinkNotYetCommitted_DoesNotSignTheMemberIn()
    {
        // The sign-in finds the identity bound while the unlink's transaction is still open (it holds the member's row);
        // a session it opened after the unlink commits would outlive the unlink.
        var user = SocialUsers.New();
        var data = await SignedInAsync("facebook", user);
        var uuid = data.GetProperty("uuid").GetString();
        var uid = await TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.ObjectId == Guid.Parse(uuid!)).Select(m => m.Uid).SingleAsync());
        Task<(int Status, JsonElement Body, HttpResponseMessage Response)> call;
        await using (var unlink = await UncommittedUnlink.StartAsync(Server, fixture.Database, uid, "facebook"))
        {
            call = Task.Run(() => ThroughOmniauthAsync("facebook", user));
            Assert.True(await unlink.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await unlink.CommitAsync();
        }

        var answer = await call;

        Assert.True((answer.Status, answer.Body.GetProperty("code").GetInt32()) == (409, 4028), $"unexpected {answer.Status} {answer.Body}");
        // Only the sign-up's session: the sign-in opened none (the uncommitted unlink stands for the call, which ends it too).
        Assert.Equal(1, await TestMembers.WithDbAsync(Server, db => db.Set<Pan.Data.Tokens.AuthSession>().CountAsync(s => s.Uid == uid && s.Revoked == null)));
    }

    private async Task<List<(string Provider, string UserId)>> ExportedAsync(string? accessToken, long uid)
    {
        string verify;
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            verify = (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(uid, VerifyPurposes.ExportData, default)).Token;
        }

        var export = await Members.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = accessToken, VerifyToken = verify });
        using var doc = JsonDocument.Parse(export.Json);
        return doc.RootElement.GetProperty("social_identities").EnumerateArray()
            .Select(i => (i.GetProperty("provider").GetString()!, i.GetProperty("provider_user_id").GetString()!)).ToList();
    }

    /// <summary>An access token of a password sign-in session of the member (not a social-login one).</summary>
    private async Task<string> OtherSessionAccessAsync(long uid)
    {
        var member = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == uid));
        return await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, member, AuthMethods.Password), member);
    }

    private Task<List<AuditEntry>> AuditAsync(long uid) =>
        TestMembers.WithDbAsync(Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == $"member:{uid}").ToListAsync());
}

public sealed class SocialIdentityBehaviour_Sqlite(SqliteOmniauthFixture f) : SocialIdentityBehaviour<SqliteOmniauthFixture>(f);

public sealed class SocialIdentityBehaviour_Postgres(PostgresOmniauthFixture f) : SocialIdentityBehaviour<PostgresOmniauthFixture>(f);

/// <summary>An unlink stopped before its commit: the member's row held and the identity deleted, in one open transaction.</summary>
internal sealed class UncommittedUnlink : UncommittedChange
{
    private UncommittedUnlink(PanServer server, ITestDatabase database)
        : base(server, database)
    {
    }

    public static async Task<UncommittedUnlink> StartAsync(PanServer server, ITestDatabase database, long uid, string provider)
    {
        var unlink = new UncommittedUnlink(server, database);
        var db = await unlink.BeginAsync();
        Assert.True(await Pan.Server.Deletion.LiveMembers.HoldAsync(db, uid, CancellationToken.None));
        await db.Set<Pan.Data.Omniauth.SocialIdentity>().Where(i => i.Uid == uid && i.Provider == provider).ExecuteDeleteAsync();
        return unlink;
    }
}
