using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Omniauth;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Server.Credentials;
using Pan.Tests.Admin;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Omniauth;

/// <summary>
/// The social-login API refuses a suspended member: <c>through_omniauth</c> of a provider user bound to it (or binding
/// to it by its email and password) answers <c>403 {"code":4030,"message":"Member suspended"}</c> once the provider user
/// (and the password) is proven, issuing and writing nothing; its refresh tokens died with the suspension.
/// </summary>
public abstract class SuspendedOmniauthBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OmniauthFixture
{
    private PanServer Server => fixture.Server;

    private Dictionary<string, string?> Fields(SocialLogin login, string? password = null) => fixture.SignInFields(login, password: password);

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> SignInAsync(SocialLogin login, string? password = null) =>
        OmniauthFixture.PostAsync(Server, "through_omniauth", Fields(login, password));

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> RefreshAsync(string? refreshToken) =>
        OmniauthFixture.PostAsync(Server, "refresh_token", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["refresh_token"] = refreshToken,
        });

    private static void AssertError(int status, int code, string message, (int Status, JsonElement Body, HttpResponseMessage _) answer)
    {
        Assert.True(answer.Status == status, $"unexpected {answer.Status} {answer.Body}");
        Assert.Equal(code, answer.Body.GetProperty("code").GetInt32());
        Assert.Equal(message, answer.Body.GetProperty("message").GetString());
        Assert.Equal(["code", "message"], answer.Body.EnumerateObject().Select(p => p.Name).ToArray());
    }

    [Fact]
    public async Task ThroughOmniauth_OfAUserBoundToASuspendedMember_Is4030_AfterTheProviderProvesTheUser_AndWritesNothing()
    {
        var user = SocialUsers.New();
        var first = await SignInAsync(fixture.Providers.SignIn("facebook", user));
        Assert.Equal(200, first.Status);
        var uid = await UidOfAsync(first.Body.GetProperty("data").GetProperty("uuid").GetString()!);
        await TestSuspensions.SuspendAsync(Server, uid, Server.Clock.GetUtcNow().AddDays(2));
        var before = await WrittenAsync(uid);
        Server.Clock.Advance(TimeSpan.FromMinutes(1));

        // A token the provider does not vouch for learns nothing of the suspension.
        AssertError(403, 403, "Authorication failed", await SignInAsync(new SocialLogin("facebook", "tok-not-a-facebook-token")));
        var refused = await SignInAsync(fixture.Providers.SignIn("facebook", user));

        AssertError(403, 4030, "Member suspended", refused);
        Assert.Equal(before, await WrittenAsync(uid));

        await TestSuspensions.RestoreAsync(Server, uid);
        var restored = await SignInAsync(fixture.Providers.SignIn("facebook", user));
        Assert.True(restored.Status == 200, $"unexpected {restored.Status} {restored.Body}");
        Assert.Equal(first.Body.GetProperty("data").GetProperty("uuid").GetString(), restored.Body.GetProperty("data").GetProperty("uuid").GetString());
    }

    /// <summary>
    /// The bound member is found before the sign-in's transaction holds its row, and a suspension commits in between
    /// (on PostgreSQL the sign-in waits for it): the sign-in must read the suspension in its transaction, not trust the
    /// row it found first, and issue nothing.
    /// </summary>
    [Fact]
    public async Task ThroughOmniauth_OfABoundMember_WhileItsSuspensionIsUncommitted_Is4030_OnceItCommits()
    {
        var user = SocialUsers.New();
        var first = await SignInAsync(fixture.Providers.SignIn("facebook", user));
        Assert.Equal(200, first.Status);
        var uid = await UidOfAsync(first.Body.GetProperty("data").GetProperty("uuid").GetString()!);
        Task<(int Status, JsonElement Body, HttpResponseMessage Response)> call;
        await using (var suspension = await UncommittedSuspension.StartAsync(Server, fixture.Database, uid))
        {
            call = Task.Run(() => SignInAsync(fixture.Providers.SignIn("facebook", user)));
            Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        AssertError(403, 4030, "Member suspended", await call);
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().CountAsync(s => s.Uid == uid && s.Revoked == null)));
    }

    [Fact]
    public async Task ThroughOmniauth_BindingToASuspendedEmailOwner_Is4030_WithTheRightPasswordOnly_AndBindsNothing()
    {
        var email = $"owner{Guid.NewGuid():N}@example.com";
        var member = await TestMembers.CreateAsync(Server, m =>
        {
            m.Email = email;
            m.EmailKey = email;
            m.EmailVerified = true;
        });
        const string password = "correct horse battery staple 43";
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<CredentialStore>().SetFirstPasswordAsync(member.Uid, password, default));
        }

        await TestSuspensions.SuspendAsync(Server, member.Uid);
        var before = await WrittenAsync(member.Uid);
        var user = SocialUsers.New(email);

        AssertError(403, 4026, "Invalid password", await SignInAsync(fixture.Providers.SignIn("google_oauth2", user), "not the password at all"));
        AssertError(403, 4030, "Member suspended", await SignInAsync(fixture.Providers.SignIn("google_oauth2", user), password));

        Assert.Equal(before, await WrittenAsync(member.Uid));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<SocialIdentity>().CountAsync(i => i.Uid == member.Uid)));
    }

    /// <summary>
    /// A provider user binding to the email's member with its right password while the member's suspension is
    /// uncommitted: on PostgreSQL the binding has checked the password and waits for the suspension at the member's row,
    /// then reads the suspension in its transaction; SQLite runs one writer at a time. Either way 4030, nothing bound or
    /// issued.
    /// </summary>
    [Fact]
    public async Task ThroughOmniauth_BindingToAnEmailOwner_WhileItsSuspensionIsUncommitted_Is4030_AndBindsNothing()
    {
        var email = $"owner{Guid.NewGuid():N}@example.com";
        var member = await TestMembers.CreateAsync(Server, m =>
        {
            m.Email = email;
            m.EmailKey = email;
            m.EmailVerified = true;
        });
        const string password = "correct horse battery staple 44";
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<CredentialStore>().SetFirstPasswordAsync(member.Uid, password, default));
        }

        var user = SocialUsers.New(email);
        Task<(int Status, JsonElement Body, HttpResponseMessage Response)> call;
        await using (var suspension = await UncommittedSuspension.StartAsync(Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => SignInAsync(fixture.Providers.SignIn("google_oauth2", user), password));
            Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        AssertError(403, 4030, "Member suspended", await call);
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<SocialIdentity>().CountAsync(i => i.Uid == member.Uid)));
        Assert.Equal(0, await TestMembers.WithDbAsync(Server, db => db.Set<AuthSession>().CountAsync(s => s.Uid == member.Uid && s.Revoked == null)));
    }

    [Fact]
    public async Task RefreshToken_OfASuspendedMember_IsInvalidRefreshToken_AndStaysDeadAfterTheRestore()
    {
        var first = await SignInAsync(fixture.Providers.SignIn("linkedin", SocialUsers.New()));
        Assert.Equal(200, first.Status);
        var data = first.Body.GetProperty("data");
        var uid = await UidOfAsync(data.GetProperty("uuid").GetString()!);
        await TestSuspensions.SuspendAsync(Server, uid);

        AssertError(403, 403, "Invalid refresh token", await RefreshAsync(data.GetProperty("refresh_token").GetString()));
        await Assert.ThrowsAsync<RpcException>(
            () => new MemberServiceV2.MemberServiceV2Client(Server.Grpc).MeAsync(new MeRequest { AccessToken = data.GetProperty("access_token").GetString(), AppId = OmniauthFixture.Client }).ResponseAsync);

        await TestSuspensions.RestoreAsync(Server, uid);
        AssertError(403, 403, "Invalid refresh token", await RefreshAsync(data.GetProperty("refresh_token").GetString()));
    }

    private Task<long> UidOfAsync(string uuid) =>
        TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.ObjectId == Guid.Parse(uuid)).Select(m => m.Uid).SingleAsync());

    /// <summary>What a sign-in of <paramref name="uid"/> writes: its sessions, access and refresh tokens, and its identities' last use.</summary>
    private Task<(int Sessions, int AccessTokens, int RefreshTokens, string LastUsed)> WrittenAsync(long uid) =>
        TestMembers.WithDbAsync(Server, async db => (
            await db.Set<AuthSession>().CountAsync(s => s.Uid == uid),
            await db.Set<StoredAccessToken>().CountAsync(t => t.Uid == uid),
            await db.Set<OmniauthRefreshToken>().CountAsync(t => t.Uid == uid),
            string.Join(",", (await db.Set<SocialIdentity>().Where(i => i.Uid == uid).Select(i => i.LastUsed).ToListAsync()).Order())));
}

public sealed class SuspendedOmniauthBehaviour_Sqlite(SqliteOmniauthFixture f) : SuspendedOmniauthBehaviour<SqliteOmniauthFixture>(f);

public sealed class SuspendedOmniauthBehaviour_Postgres(PostgresOmniauthFixture f) : SuspendedOmniauthBehaviour<PostgresOmniauthFixture>(f);
