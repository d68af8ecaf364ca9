using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.General.Admin;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Admin;

/// <summary>GoogleLogin against a loopback server speaking Google's tokeninfo protocol, and ValidateAdminToken.</summary>
public abstract class AdminSignInBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AdminFixture
{
    private AdminService.AdminServiceClient Client => new(fixture.Server.Grpc);

    [Fact]
    public async Task GoogleLogin_WithAnAllowListedVerifiedAccount_ReturnsAnAdminTokenThatValidates()
    {
        var email = $"Lead{Guid.NewGuid():N}@Example.com";
        await fixture.AddAdminAsync(email, "member-admin,support");
        var accessToken = fixture.Google.Issue(email);

        var login = await Client.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = accessToken });
        var check = await Client.ValidateAdminTokenAsync(new ValidateAdminTokenRequest { AdminToken = login.AdminToken });

        Assert.Contains(accessToken, fixture.Google.Received);
        Assert.True(login.AdminToken.Length >= 43, "an admin token carries at least 256 bits");
        Assert.True(check.IsValid);
        Assert.Equal(email.ToLowerInvariant(), check.Email);
        Assert.Equal(["member-admin", "support"], check.Roles);
        var key = email.ToLowerInvariant();
        var audit = Assert.Single(await fixture.AuditAsync("admin.google-login", "admin-console"), e => e.Actor == key);
        Assert.Equal("ok", audit.Outcome);
    }

    /// <summary>A sign-in whose audit line the database refuses opens no admin session (no session without its line).</summary>
    [Fact]
    public async Task GoogleLogin_WhenItsAuditLineIsRefused_OpensNoAdminSession()
    {
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await fixture.AddAdminAsync(email, "support");

        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, $"NEW.actor = '{email}' AND NEW.outcome = 'ok'"))
        {
            await Errors.ExpectAsync(() => Client.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(email) }).ResponseAsync,
                StatusCode.Internal, "INTERNAL");
        }

        Assert.Equal(0, await Pan.Tests.Members.TestMembers.WithDbAsync(fixture.Server,
            db => db.Set<Pan.Data.Admins.AdminSession>().CountAsync(s => s.Email == email)));
        var audit = Assert.Single(await fixture.AuditAsync("admin.google-login", "admin-console"), e => e.Actor == email);
        Assert.StartsWith("error", audit.Outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GoogleLogin_WithATokenGoogleRejects_IsUnauthenticated()
    {
        await Errors.ExpectAsync(() => Client.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = "ya29.not-a-token" }).ResponseAsync,
            StatusCode.Unauthenticated, "GOOGLE_TOKEN_INVALID");
    }

    [Fact]
    public async Task GoogleLogin_WithATokenIssuedToAnotherClient_IsUnauthenticated()
    {
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await fixture.AddAdminAsync(email, "support");

        await Errors.ExpectAsync(
            () => Client.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(email, audience: "someone-else.apps.googleusercontent.com") }).ResponseAsync,
            StatusCode.Unauthenticated, "GOOGLE_TOKEN_INVALID");
    }

    [Fact]
    public async Task GoogleLogin_WithAnExpiredToken_IsUnauthenticated()
    {
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await fixture.AddAdminAsync(email, "support");

        await Errors.ExpectAsync(
            () => Client.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(email, expiresIn: 0) }).ResponseAsync,
            StatusCode.Unauthenticated, "GOOGLE_TOKEN_INVALID");
    }

    [Fact]
    public async Task GoogleLogin_WithAnUnverifiedEmail_IsPermissionDenied()
    {
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await fixture.AddAdminAsync(email, "support");

        await Errors.ExpectAsync(
            () => Client.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(email, emailVerified: false) }).ResponseAsync,
            StatusCode.PermissionDenied, "NOT_AN_ADMIN");
    }

    [Fact]
    public async Task GoogleLogin_ForAnAccountNotOnTheAllowList_IsPermissionDeniedAndAudited()
    {
        var email = $"stranger{Guid.NewGuid():N}@example.com";

        await Errors.ExpectAsync(() => Client.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(email) }).ResponseAsync,
            StatusCode.PermissionDenied, "NOT_AN_ADMIN");

        var audit = Assert.Single(await fixture.AuditAsync("admin.google-login", "admin-console"), e => e.Actor == email);
        Assert.Equal("NOT_AN_ADMIN", audit.Outcome);
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.InternalServerError)]
    public async Task GoogleLogin_WhenGoogleFails_IsUnavailable(HttpStatusCode status)
    {
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await fixture.AddAdminAsync(email, "support");
        fixture.Google.FailWith = status;
        try
        {
            await Errors.ExpectAsync(() => Client.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(email) }).ResponseAsync,
                StatusCode.Unavailable, "UNAVAILABLE");
        }
        finally
        {
            fixture.Google.FailWith = null;
        }
    }

    [Fact]
    public async Task GoogleLogin_WhenGoogleIsTooSlow_IsUnavailable()
    {
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await fixture.AddAdminAsync(email, "support");
        fixture.Google.Delay = TimeSpan.FromSeconds(3);
        try
        {
            await Errors.ExpectAsync(() => Client.GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(email) }).ResponseAsync,
                StatusCode.Unavailable, "UNAVAILABLE");
        }
        finally
        {
            fixture.Google.Delay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task GoogleLogin_WhenGoogleIsUnreachable_IsUnavailable()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Admin:Google:TokenInfoUrl"] = "http://127.0.0.1:9/tokeninfo" });
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await fixture.AddAdminAsync(email, "support");

        await Errors.ExpectAsync(
            () => new AdminService.AdminServiceClient(node.Grpc).GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(email) }).ResponseAsync,
            StatusCode.Unavailable, "UNAVAILABLE");
    }

    [Fact]
    public async Task GoogleLogin_WithoutAConfiguredClientId_FailsClosed()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Admin:Google:ClientId"] = "" });
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await fixture.AddAdminAsync(email, "support");
        var before = fixture.Google.Received.Count;

        await Errors.ExpectAsync(
            () => new AdminService.AdminServiceClient(node.Grpc).GoogleLoginAsync(new GoogleLoginRequest { AccessToken = fixture.Google.Issue(email) }).ResponseAsync,
            StatusCode.FailedPrecondition, "ADMIN_LOGIN_NOT_CONFIGURED");
        Assert.Equal(before, fixture.Google.Received.Count);
    }

    [Fact]
    public async Task GoogleLogin_WithoutAnAccessToken_IsInvalidArgumentNamingIt()
    {
        var ex = await Errors.ExpectAsync(() => Client.GoogleLoginAsync(new GoogleLoginRequest()).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ARGUMENT");

        Assert.Equal("access_token", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task ValidateAdminToken_ForUnknownExpiredOrRemovedAdmins_IsNotValid()
    {
        var (email, token) = await fixture.SignInNewAdminAsync("support");
        var (_, other) = await fixture.SignInNewAdminAsync("support");

        var unknown = await Client.ValidateAdminTokenAsync(new ValidateAdminTokenRequest { AdminToken = "not-a-token" });
        var removedRun = await PanCli.RunAsync(fixture.Database, "admins", "remove", email);
        var removed = await Client.ValidateAdminTokenAsync(new ValidateAdminTokenRequest { AdminToken = token });
        fixture.Server.Clock.Advance(TimeSpan.FromHours(8) + TimeSpan.FromSeconds(1));
        var expired = await Client.ValidateAdminTokenAsync(new ValidateAdminTokenRequest { AdminToken = other });

        Assert.False(unknown.IsValid);
        Assert.Equal(0, removedRun.ExitCode);
        Assert.False(removed.IsValid);
        Assert.Empty(removed.Email);
        Assert.Empty(removed.Roles);
        Assert.False(expired.IsValid);
    }

    [Fact]
    public async Task ValidateAdminToken_OverHttpJson_AnswersTheAdmin()
    {
        var (email, token) = await fixture.SignInNewAdminAsync("member-admin");

        using var response = await fixture.Server.Http.PostAsJsonAsync("/v1/admin/validate-admin-token", new { adminToken = token });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(body.GetProperty("isValid").GetBoolean());
        Assert.Equal(email, body.GetProperty("email").GetString());
    }
}

public sealed class AdminSignInBehaviour_Sqlite(SqliteAdminFixture f) : AdminSignInBehaviour<SqliteAdminFixture>(f);

public sealed class AdminSignInBehaviour_Postgres(PostgresAdminFixture f) : AdminSignInBehaviour<PostgresAdminFixture>(f);
