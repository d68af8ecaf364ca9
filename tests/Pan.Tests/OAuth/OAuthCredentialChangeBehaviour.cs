using System.Net;
using Pan.General.Admin;
using Pan.General.Member;
using Pan.Oauth;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.OAuth;

/// <summary>
/// A password change (UpdateCredential, or an admin's ChangeMemberPassword) or a password reset (AuthResetUpdate) ends
/// what apps got through OAuth for that member (refresh tokens, unredeemed codes, access tokens as introspection sees
/// them), keeps the remembered consent, and leaves other members' app tokens alone (SECURITY 4 and 12). Logout ends the
/// Pan session only.
/// </summary>
public abstract class OAuthCredentialChangeBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthCredentialFixture
{
    private readonly Mailboxes mail = new(fixture);

    private readonly OAuthWebApp app = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task RefreshGrant_WhileTheDatabaseStaysLockedPastTheTimeout_Is503TemporarilyUnavailable_AndTheSameRefreshThenWorks()
    {
        var member = await mail.RegisterAsync();
        var tokens = await app.TokensAsync(member.AccessToken, remember: true);
        // Why a node of its own: its connection gives up waiting for a lock after about a second; it is the same issuer.
        var timeout = fixture.Database.Provider == "postgres" ? ";Command Timeout=1" : ";Default Timeout=1";
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Pan"] = fixture.Database.ConnectionString + timeout,
            ["Pan:Links:PublicBaseUrl"] = fixture.Server.HttpUri.ToString(),
        });
        var refresh = new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        };

        await using (await DatabaseLock.HoldAsync(fixture.Database, "oauth_tokens"))
        {
            var (status, json) = await PostFormAsync(node, "/connect/token", refresh);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("temporarily_unavailable", json.GetProperty("error").GetString());
        }

        var (again, refreshed) = await PostFormAsync(node, "/connect/token", refresh);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.True(await app.IsActiveAsync(refreshed.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task CodeExchange_WhileTheDatabaseStaysLockedPastTheTimeout_Is503TemporarilyUnavailable_AndTheSameCodeThenWorks()
    {
        var member = await mail.RegisterAsync();
        var (redirect, pkce) = await app.CodeAsync(member.AccessToken, remember: true);
        var timeout = fixture.Database.Provider == "postgres" ? ";Command Timeout=1" : ";Default Timeout=1";
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Pan"] = fixture.Database.ConnectionString + timeout,
            ["Pan:Links:PublicBaseUrl"] = fixture.Server.HttpUri.ToString(),
        });
        var exchange = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = pkce.Verifier,
        };

        await using (await DatabaseLock.HoldAsync(fixture.Database, "oauth_tokens"))
        {
            var (status, json) = await PostFormAsync(node, "/connect/token", exchange);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("temporarily_unavailable", json.GetProperty("error").GetString());
        }

        var (again, tokens) = await PostFormAsync(node, "/connect/token", exchange);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.True(await app.IsActiveAsync(tokens.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task PasswordChange_RevokesTheMembersAppTokensAndCodes_KeepsTheConsent_AndOtherMembersTokens()
    {
        var victim = await MemberWithPasswordAsync();
        var bystander = await MemberWithPasswordAsync();
        var victimTokens = await app.TokensAsync(victim.AccessToken, remember: true);
        var bystanderTokens = await app.TokensAsync(bystander.AccessToken, remember: true);
        var outstanding = await app.CodeAsync(victim.AccessToken);

        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = victim.AuthToken,
            OriginalPassword = FirstPassword,
            NewPassword = NewPassword,
            ConfirmNewPassword = NewPassword,
        });

        OAuthWebApp.ExpectInvalidGrant(await app.RefreshAsync(victimTokens));
        OAuthWebApp.ExpectInvalidGrant(await app.ExchangeAsync(outstanding));
        Assert.False(await app.IsActiveAsync(victimTokens.GetProperty("access_token").GetString()!));
        Assert.True(await app.IsActiveAsync(bystanderTokens.GetProperty("access_token").GetString()!));
        var (bystanderStatus, _) = await app.RefreshAsync(bystanderTokens);
        Assert.Equal(HttpStatusCode.OK, bystanderStatus);
        // The consent is remembered: the app sends the member (whose caller session survived) through again, no consent screen.
        var started = await new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).DoAsync(OAuthWebApp.Do(victim.AccessToken, Pkce.Create()));
        Assert.False(started.ConsentRequired);
        Assert.NotEmpty(Param(new Uri(started.RedirectUri), "code"));
    }

    [Fact]
    public async Task PasswordReset_ByEmail_RevokesTheMembersAppTokens_AndTheConsentStaysRemembered()
    {
        var victim = await mail.RegisterWithEmailAsync();
        var bystander = await mail.RegisterAsync();
        var victimTokens = await app.TokensAsync(victim.AccessToken, remember: true);
        var bystanderTokens = await app.TokensAsync(bystander.AccessToken, remember: true);
        var outstanding = await app.CodeAsync(victim.AccessToken);

        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = victim.Name, Email = victim.Email! });
        var code = SmtpInbox.CodeOf(await mail.MailAsync(victim.Email!, 2));
        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code });
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = reset.AuthResetToken, Password = NewPassword, ConfirmPassword = NewPassword });

        OAuthWebApp.ExpectInvalidGrant(await app.RefreshAsync(victimTokens));
        OAuthWebApp.ExpectInvalidGrant(await app.ExchangeAsync(outstanding));
        Assert.False(await app.IsActiveAsync(victimTokens.GetProperty("access_token").GetString()!));
        Assert.True(await app.IsActiveAsync(bystanderTokens.GetProperty("access_token").GetString()!));
        // Signed in again (a reset ends every Pan session), the member goes straight back to the app with a working code.
        var access = await mail.Phones.AccessTokenAsync(await mail.Phones.LoginAsync(victim.E164));
        var pkce = Pkce.Create();
        var started = await new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).DoAsync(OAuthWebApp.Do(access, pkce));
        Assert.False(started.ConsentRequired);
        var (status, tokens) = await app.ExchangeAsync((new Uri(started.RedirectUri), pkce));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(await app.IsActiveAsync(tokens.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task AdminPasswordChange_RevokesTheMembersAppTokensAndCodes_AndLeavesOtherMembersTokens()
    {
        var victim = await MemberWithPasswordAsync();
        var bystander = await MemberWithPasswordAsync();
        var victimTokens = await app.TokensAsync(victim.AccessToken, remember: true);
        var bystanderTokens = await app.TokensAsync(bystander.AccessToken, remember: true);
        var outstanding = await app.CodeAsync(victim.AccessToken);
        var admin = await fixture.SignInNewAdminAsync("member-admin");

        await new AdminService.AdminServiceClient(fixture.Server.Grpc).ChangeMemberPasswordAsync(
            new ChangeMemberPasswordRequest { AdminToken = admin, Uid = victim.Uid, Password = NewPassword });

        OAuthWebApp.ExpectInvalidGrant(await app.RefreshAsync(victimTokens));
        OAuthWebApp.ExpectInvalidGrant(await app.ExchangeAsync(outstanding));
        Assert.False(await app.IsActiveAsync(victimTokens.GetProperty("access_token").GetString()!));
        Assert.True(await app.IsActiveAsync(bystanderTokens.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task Logout_EndsThePanSession_ButNotTheAppsTokens()
    {
        var member = await mail.RegisterAsync();
        var tokens = await app.TokensAsync(member.AccessToken, remember: false);

        await Client.LogoutAsync(new LogoutRequest { PanAccessToken = member.AccessToken, Token2 = member.AuthToken });

        await Errors.ExpectAsync(() => Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = member.AccessToken }).ResponseAsync,
            Grpc.Core.StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
        Assert.True(await app.IsActiveAsync(tokens.GetProperty("access_token").GetString()!));
        var (status, refreshed) = await app.RefreshAsync(tokens);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotEmpty(refreshed.GetProperty("refresh_token").GetString()!);
    }

    private static string FirstPassword => Credentials.TestCredentials.Password;

    private static string NewPassword => Credentials.TestCredentials.OtherPassword;

    /// <summary>A registered member with a first password set through SetMemberPassword (which ends no session).</summary>
    private async Task<TestMember> MemberWithPasswordAsync()
    {
        var member = await mail.RegisterAsync();
        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest
        {
            AccessToken = member.AccessToken, Password = FirstPassword, ConfirmPassword = FirstPassword, ResetCode = await mail.ProofAsync(member),
        });
        return member;
    }
}

public sealed class OAuthCredentialChangeBehaviour_Sqlite(SqliteOAuthCredentialFixture f) : OAuthCredentialChangeBehaviour<SqliteOAuthCredentialFixture>(f);

public sealed class OAuthCredentialChangeBehaviour_Postgres(PostgresOAuthCredentialFixture f) : OAuthCredentialChangeBehaviour<PostgresOAuthCredentialFixture>(f);
