using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Omniauth;

/// <summary>
/// Token substitution: a LinkedIn or Microsoft token another app obtained for a user must not sign in as that user
/// when Pan knows its own apps (<c>LinkedIn:ClientId</c>, <c>Microsoft:ClientIds</c>), and is still accepted as before
/// when those settings are absent.
/// </summary>
public abstract class OmniauthProviderAppBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OmniauthFixture
{
    /// <summary>The settings that tie tokens to our apps, removed (a null value removes a setting).</summary>
    private static readonly Dictionary<string, string?> Untied = new()
    {
        ["Pan:Omniauth:LinkedIn:ClientId"] = null,
        ["Pan:Omniauth:LinkedIn:ClientSecret"] = null,
        ["Pan:Omniauth:Microsoft:ClientIds:0"] = null,
    };

    private PanServer Server => fixture.Server;

    private FakeSocialProviders Providers => fixture.Providers;

    private Task<(int Status, JsonElement Body, HttpResponseMessage Response)> SignInAsync(string provider, string token, PanServer? on = null) =>
        OmniauthFixture.PostAsync(on ?? Server, "through_omniauth", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["provider"] = provider,
            ["omniauth_token"] = token,
        });

    private static void AssertAuthorizationFailed((int Status, JsonElement Body, HttpResponseMessage _) answer)
    {
        Assert.Equal(403, answer.Status);
        Assert.Equal(403, answer.Body.GetProperty("code").GetInt32());
        Assert.Equal("Authorication failed", answer.Body.GetProperty("message").GetString());
    }

    private static string Uuid((int Status, JsonElement Body, HttpResponseMessage _) answer)
    {
        Assert.True(answer.Status == 200, $"unexpected {answer.Status} {answer.Body}");
        return answer.Body.GetProperty("data").GetProperty("uuid").GetString()!;
    }

    private Task<PanServer> UntiedNodeAsync() => fixture.StartNodeAsync(Untied, new FakeTimeProvider(Server.Clock.GetUtcNow()));

    [Fact]
    public async Task LinkedIn_ATokenOfOurClient_IsIntrospectedThenSignsIn()
    {
        var user = SocialUsers.New();
        var login = Providers.SignIn("linkedin", user);

        var answer = await SignInAsync("linkedin", login.Token);

        Assert.Equal(200, answer.Status);
        Assert.Equal(user.Email, answer.Body.GetProperty("data").GetProperty("email").GetString());
        Assert.Contains("/linkedin/oauth/v2/introspectToken", Providers.Calls);
    }

    [Fact]
    public async Task LinkedIn_ATokenIssuedToAnotherClient_IsAuthoricationFailed()
    {
        var login = Providers.SignInLinkedInForAnotherClient(SocialUsers.New());

        AssertAuthorizationFailed(await SignInAsync("linkedin", login.Token));
    }

    [Fact]
    public async Task LinkedIn_ATokenIntrospectionCallsInactive_IsAuthoricationFailed()
    {
        var login = Providers.SignInLinkedInRevoked(SocialUsers.New());

        AssertAuthorizationFailed(await SignInAsync("linkedin", login.Token));
    }

    [Fact]
    public async Task LinkedIn_ATokenOfAnotherClientSignedInBefore_IsRefusedEvenForItsBoundMember()
    {
        // The victim signed in through our app; another app's token for the same LinkedIn user must not reach the member.
        var user = SocialUsers.New();
        Uuid(await SignInAsync("linkedin", Providers.SignIn("linkedin", user).Token));

        AssertAuthorizationFailed(await SignInAsync("linkedin", Providers.SignInLinkedInForAnotherClient(user).Token));
    }

    [Fact]
    public async Task Microsoft_AGoodIdToken_SignsInTheSameMemberAsTheGraphAccessToken()
    {
        var user = SocialUsers.NewMicrosoft();
        var byAccessToken = Uuid(await SignInAsync("microsoft_graph", Providers.SignInMicrosoftAccessToken(user, FakeSocialProviders.MicrosoftClientId)));
        var calls = Providers.Calls.Count;

        var byIdToken = await SignInAsync("microsoft_graph", Providers.MicrosoftIdToken(user, Server.Clock.GetUtcNow()));

        Assert.Equal(byAccessToken, Uuid(byIdToken));
        Assert.DoesNotContain("/microsoft/v1.0/me", Providers.Calls.Skip(calls));
    }

    [Fact]
    public async Task Microsoft_AnIdTokenFirst_ThenTheGraphAccessToken_SignInTheSameMember()
    {
        var user = SocialUsers.NewMicrosoft();
        var byIdToken = Uuid(await SignInAsync("microsoft_graph", Providers.MicrosoftIdToken(user, Server.Clock.GetUtcNow())));

        var byAccessToken = await SignInAsync("microsoft_graph", Providers.SignInMicrosoftAccessToken(user, FakeSocialProviders.MicrosoftClientId, v2: true));

        Assert.Equal(byIdToken, Uuid(byAccessToken));
    }

    [Fact]
    public async Task Microsoft_APersonalAccountsIdToken_SignsInTheMemberItsOpaqueGraphTokenCreated()
    {
        // Before ClientIds was configured, a personal account signed in with an opaque Graph token (bound by Graph's
        // 16-digit id); its ID token, the only way in once ClientIds is set, must find that member.
        var user = SocialUsers.NewMicrosoft(personal: true);
        string before;
        await using (var node = await UntiedNodeAsync())
        {
            before = Uuid(await SignInAsync("microsoft_graph", Providers.SignInMicrosoftOpaqueToken(user), node));
        }

        var after = await SignInAsync("microsoft_graph", Providers.MicrosoftIdToken(user, Server.Clock.GetUtcNow(), tenant: FakeSocialProviders.MicrosoftConsumerTenant));

        Assert.Equal(before, Uuid(after));
    }

    [Theory]
    [InlineData("audience")]
    [InlineData("expired")]
    [InlineData("key")]
    [InlineData("issuer-of-another-tenant")]
    [InlineData("foreign-issuer")]
    [InlineData("api-access-token")]
    [InlineData("no-oid")]
    public async Task Microsoft_ABadIdToken_IsAuthoricationFailed(string flaw)
    {
        var user = SocialUsers.NewMicrosoft();
        var now = Server.Clock.GetUtcNow();
        var token = flaw switch
        {
            "audience" => Providers.MicrosoftIdToken(user, now, audience: "0a1b2c3d-another-app"),
            "expired" => Providers.MicrosoftIdToken(user, now - TimeSpan.FromHours(3)),
            "key" => Providers.MicrosoftIdToken(user, now, otherKey: true),
            "issuer-of-another-tenant" => Providers.MicrosoftIdToken(user, now, issuer: $"https://login.microsoftonline.com/{Guid.NewGuid():D}/v2.0"),
            "foreign-issuer" => Providers.MicrosoftIdToken(user, now, issuer: $"https://evil.example.com/{FakeSocialProviders.MicrosoftTenant}/v2.0"),
            "api-access-token" => Providers.MicrosoftIdToken(user, now, extra: new Dictionary<string, object> { ["scp"] = "Member.Read", ["azp"] = "0a1b2c3d-another-app" }),
            _ => Providers.MicrosoftIdToken(user with { Id = "not-a-guid" }, now),
        };

        AssertAuthorizationFailed(await SignInAsync("microsoft_graph", token));
    }

    [Theory]
    [InlineData("another-app")]
    [InlineData("no-app")]
    public async Task Microsoft_AGraphAccessTokenNotOfOurApps_IsAuthoricationFailed(string flaw)
    {
        var user = SocialUsers.NewMicrosoft();
        var token = Providers.SignInMicrosoftAccessToken(user, flaw == "another-app" ? "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" : null);

        AssertAuthorizationFailed(await SignInAsync("microsoft_graph", token));
        Assert.Contains("/microsoft/v1.0/me", Providers.Calls);
    }

    [Fact]
    public async Task Microsoft_AnOpaqueAccessToken_IsAuthoricationFailedWhileClientIdsAreSet()
    {
        var token = Providers.SignInMicrosoftOpaqueToken(SocialUsers.NewMicrosoft(personal: true));

        AssertAuthorizationFailed(await SignInAsync("microsoft_graph", token));
    }

    [Fact]
    public async Task Microsoft_WithTenantIds_OnlyTokensOfThoseTenantsSignIn()
    {
        await using var node = await fixture.StartNodeAsync(
            new Dictionary<string, string?> { ["Pan:Omniauth:Microsoft:TenantIds:0"] = FakeSocialProviders.MicrosoftTenant },
            new FakeTimeProvider(Server.Clock.GetUtcNow()));
        var now = node.Clock.GetUtcNow();
        const string otherTenant = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

        var ourIdToken = await SignInAsync("microsoft_graph", Providers.MicrosoftIdToken(SocialUsers.NewMicrosoft(), now), node);
        var ourAccessToken = await SignInAsync("microsoft_graph", Providers.SignInMicrosoftAccessToken(SocialUsers.NewMicrosoft(), FakeSocialProviders.MicrosoftClientId), node);
        var personal = await SignInAsync("microsoft_graph",
            Providers.MicrosoftIdToken(SocialUsers.NewMicrosoft(personal: true), now, tenant: FakeSocialProviders.MicrosoftConsumerTenant), node);
        var otherIdToken = await SignInAsync("microsoft_graph", Providers.MicrosoftIdToken(SocialUsers.NewMicrosoft(), now, tenant: otherTenant), node);
        var otherAccessToken = await SignInAsync("microsoft_graph",
            Providers.SignInMicrosoftAccessToken(SocialUsers.NewMicrosoft(), FakeSocialProviders.MicrosoftClientId, tenant: otherTenant), node);

        Uuid(ourIdToken);
        Uuid(ourAccessToken);
        AssertAuthorizationFailed(personal);
        AssertAuthorizationFailed(otherIdToken);
        AssertAuthorizationFailed(otherAccessToken);
    }

    [Fact]
    public async Task WithoutTheSettings_TokensOfAnyApp_AreAcceptedAsBefore()
    {
        await using var node = await UntiedNodeAsync();

        var linkedin = await SignInAsync("linkedin", Providers.SignInLinkedInForAnotherClient(SocialUsers.New()).Token, node);
        var foreignApp = await SignInAsync("microsoft_graph", Providers.SignInMicrosoftAccessToken(SocialUsers.NewMicrosoft(), "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"), node);
        var opaque = await SignInAsync("microsoft_graph", Providers.SignInMicrosoftOpaqueToken(SocialUsers.NewMicrosoft(personal: true)), node);

        Uuid(linkedin);
        Uuid(foreignApp);
        Uuid(opaque);
    }
}

public sealed class OmniauthProviderAppBehaviour_Sqlite(SqliteOmniauthFixture f) : OmniauthProviderAppBehaviour<SqliteOmniauthFixture>(f);

public sealed class OmniauthProviderAppBehaviour_Postgres(PostgresOmniauthFixture f) : OmniauthProviderAppBehaviour<PostgresOmniauthFixture>(f);
