using System.Net;
using System.Text.Json;
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
    private const string Scope = "openid offline_access";

    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task PasswordChange_RevokesTheMembersAppTokensAndCodes_KeepsTheConsent_AndOtherMembersTokens()
    {
        var victim = await MemberWithPasswordAsync();
        var bystander = await MemberWithPasswordAsync();
        var victimTokens = await TokensAsync(victim.AccessToken, remember: true);
        var bystanderTokens = await TokensAsync(bystander.AccessToken, remember: true);
        var outstanding = await CodeAsync(victim.AccessToken);

        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = victim.AuthToken,
            OriginalPassword = FirstPassword,
            NewPassword = NewPassword,
            ConfirmNewPassword = NewPassword,
        });

        ExpectInvalidGrant(await RefreshAsync(victimTokens));
        ExpectInvalidGrant(await ExchangeAsync(outstanding));
        Assert.False(await IsActiveAsync(victimTokens.GetProperty("access_token").GetString()!));
        Assert.True(await IsActiveAsync(bystanderTokens.GetProperty("access_token").GetString()!));
        var (bystanderStatus, _) = await RefreshAsync(bystanderTokens);
        Assert.Equal(HttpStatusCode.OK, bystanderStatus);
        // The consent is remembered: the app sends the member (whose caller session survived) through again, no consent screen.
        var started = await new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).DoAsync(Do(victim.AccessToken, Pkce.Create()));
        Assert.False(started.ConsentRequired);
        Assert.NotEmpty(Param(new Uri(started.RedirectUri), "code"));
    }

    [Fact]
    public async Task PasswordReset_ByEmail_RevokesTheMembersAppTokens_AndTheConsentStaysRemembered()
    {
        var victim = await mail.RegisterWithEmailAsync();
        var bystander = await mail.RegisterAsync();
        var victimTokens = await TokensAsync(victim.AccessToken, remember: true);
        var bystanderTokens = await TokensAsync(bystander.AccessToken, remember: true);
        var outstanding = await CodeAsync(victim.AccessToken);

        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = victim.Name, Email = victim.Email! });
        var code = SmtpInbox.CodeOf(await mail.MailAsync(victim.Email!, 2));
        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code });
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = reset.AuthResetToken, Password = NewPassword, ConfirmPassword = NewPassword });

        ExpectInvalidGrant(await RefreshAsync(victimTokens));
        ExpectInvalidGrant(await ExchangeAsync(outstanding));
        Assert.False(await IsActiveAsync(victimTokens.GetProperty("access_token").GetString()!));
        Assert.True(await IsActiveAsync(bystanderTokens.GetProperty("access_token").GetString()!));
        // Signed in again (a reset ends every Pan session), the member goes straight back to the app with a working code.
        var access = await mail.Phones.AccessTokenAsync(await mail.Phones.LoginAsync(victim.E164));
        var pkce = Pkce.Create();
        var started = await new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).DoAsync(Do(access, pkce));
        Assert.False(started.ConsentRequired);
        var (status, tokens) = await ExchangeAsync((new Uri(started.RedirectUri), pkce));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(await IsActiveAsync(tokens.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task AdminPasswordChange_RevokesTheMembersAppTokensAndCodes_AndLeavesOtherMembersTokens()
    {
        var victim = await MemberWithPasswordAsync();
        var bystander = await MemberWithPasswordAsync();
        var victimTokens = await TokensAsync(victim.AccessToken, remember: true);
        var bystanderTokens = await TokensAsync(bystander.AccessToken, remember: true);
        var outstanding = await CodeAsync(victim.AccessToken);
        var admin = await fixture.SignInNewAdminAsync("member-admin");

        await new AdminService.AdminServiceClient(fixture.Server.Grpc).ChangeMemberPasswordAsync(
            new ChangeMemberPasswordRequest { AdminToken = admin, Uid = victim.Uid, Password = NewPassword });

        ExpectInvalidGrant(await RefreshAsync(victimTokens));
        ExpectInvalidGrant(await ExchangeAsync(outstanding));
        Assert.False(await IsActiveAsync(victimTokens.GetProperty("access_token").GetString()!));
        Assert.True(await IsActiveAsync(bystanderTokens.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task Logout_EndsThePanSession_ButNotTheAppsTokens()
    {
        var member = await mail.RegisterAsync();
        var tokens = await TokensAsync(member.AccessToken, remember: false);

        await Client.LogoutAsync(new LogoutRequest { PanAccessToken = member.AccessToken, Token2 = member.AuthToken });

        await Errors.ExpectAsync(() => Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = member.AccessToken }).ResponseAsync,
            Grpc.Core.StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
        Assert.True(await IsActiveAsync(tokens.GetProperty("access_token").GetString()!));
        var (status, refreshed) = await RefreshAsync(tokens);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotEmpty(refreshed.GetProperty("refresh_token").GetString()!);
    }

    private static string FirstPassword => Credentials.TestCredentials.Password;

    private static string NewPassword => Credentials.TestCredentials.OtherPassword;

    /// <summary>A registered member with a first password set through SetMemberPassword (which ends no session).</summary>
    private async Task<TestMember> MemberWithPasswordAsync()
    {
        var member = await mail.RegisterAsync();
        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = member.AccessToken, Password = FirstPassword, ConfirmPassword = FirstPassword });
        return member;
    }

    private static DoRequest Do(string panAccessToken, Pkce pkce) => new()
    {
        PanAccessToken = panAccessToken,
        ClientId = OAuthFixture.WebClient,
        RedirectUri = OAuthFixture.WebRedirect,
        ResponseType = "code",
        Scope = Scope,
        State = "st-" + Guid.NewGuid().ToString("N"),
        Nonce = "n-" + Guid.NewGuid().ToString("N"),
        CodeChallenge = pkce.Challenge,
        CodeChallengeMethod = "S256",
    };

    /// <summary>Runs the consent flow over gRPC (approving when asked) and returns the client redirect and the PKCE pair.</summary>
    private async Task<(Uri Redirect, Pkce Pkce)> CodeAsync(string panAccessToken, bool remember = false)
    {
        var pkce = Pkce.Create();
        var consent = new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc);
        var started = await consent.DoAsync(Do(panAccessToken, pkce));
        if (!started.ConsentRequired)
        {
            return (new Uri(started.RedirectUri), pkce);
        }

        var approved = await consent.ApproveAsync(new ApproveRequest { RequestId = started.RequestId, PanAccessToken = panAccessToken, Remember = remember });
        return (new Uri(approved.RedirectUri), pkce);
    }

    /// <summary>The web app's tokens (access, refresh, id) for the member, through the code flow with PKCE.</summary>
    private async Task<JsonElement> TokensAsync(string panAccessToken, bool remember)
    {
        var (status, tokens) = await ExchangeAsync(await CodeAsync(panAccessToken, remember));
        Assert.Equal(HttpStatusCode.OK, status);
        return tokens;
    }

    private Task<(HttpStatusCode Status, JsonElement Json)> ExchangeAsync((Uri Redirect, Pkce Pkce) code) =>
        PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(code.Redirect, "code"), ["redirect_uri"] = OAuthFixture.WebRedirect,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret, ["code_verifier"] = code.Pkce.Verifier,
        });

    private Task<(HttpStatusCode Status, JsonElement Json)> RefreshAsync(JsonElement tokens) =>
        PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
            ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });

    private async Task<bool> IsActiveAsync(string accessToken)
    {
        var (status, json) = await PostFormAsync(fixture.Server, "/connect/introspect", new Dictionary<string, string>
        {
            ["token"] = accessToken, ["token_type_hint"] = "access_token", ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        return json.GetProperty("active").GetBoolean();
    }

    private static void ExpectInvalidGrant((HttpStatusCode Status, JsonElement Json) answer)
    {
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("invalid_grant", answer.Json.GetProperty("error").GetString());
    }
}

public sealed class OAuthCredentialChangeBehaviour_Sqlite(SqliteOAuthCredentialFixture f) : OAuthCredentialChangeBehaviour<SqliteOAuthCredentialFixture>(f);

public sealed class OAuthCredentialChangeBehaviour_Postgres(PostgresOAuthCredentialFixture f) : OAuthCredentialChangeBehaviour<PostgresOAuthCredentialFixture>(f);
