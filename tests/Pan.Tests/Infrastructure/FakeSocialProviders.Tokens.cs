using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pan.Tests.Infrastructure;

/// <summary>The tokens and ID tokens a client holds after signing in with a fake provider.</summary>
public sealed partial class FakeSocialProviders
{
    /// <summary>A user the provider knows, and the token (and secret / open id) a client would hold for it.</summary>
    public SocialLogin SignIn(string provider, SocialUser user)
    {
        var token = provider switch
        {
            "twitter" => "1234-" + Random(),
            "microsoft_graph" => GraphAccessToken(user, MicrosoftClientId),
            _ => "tok-" + Random(),
        };
        var secret = provider == "twitter" ? Random() : null;
        tokens[(provider, token)] = (user, secret, provider switch
        {
            "qq_connect" => QqAppId,
            "google_oauth2" => GoogleClientId,
            "linkedin" => LinkedInClientId,
            "microsoft_graph" => MicrosoftClientId,
            _ => null,
        });
        return provider switch
        {
            "twitter" => new SocialLogin(provider, token, secret, TwitterBundle, User: user),
            "qq_connect" or "wechat" => new SocialLogin(provider, token, OpenId: user.Id, User: user),
            _ => new SocialLogin(provider, token, User: user),
        };
    }

    /// <summary>A QQ token issued to another QQ app than Pan's.</summary>
    public SocialLogin SignInQqForAnotherApp(SocialUser user)
    {
        var login = SignIn("qq_connect", user);
        tokens[("qq_connect", login.Token)] = (user, null, "999999");
        return login;
    }

    /// <summary>A Google access token issued to another OAuth client than Pan's.</summary>
    public SocialLogin SignInGoogleForAnotherClient(SocialUser user)
    {
        var login = SignIn("google_oauth2", user);
        tokens[("google_oauth2", login.Token)] = (user, null, "someone-else.apps.googleusercontent.com");
        return login;
    }

    /// <summary>A LinkedIn token issued to another LinkedIn app than Pan's (introspection names that app).</summary>
    public SocialLogin SignInLinkedInForAnotherClient(SocialUser user)
    {
        var login = SignIn("linkedin", user);
        tokens[("linkedin", login.Token)] = (user, null, "77anotherapp");
        return login;
    }

    /// <summary>A LinkedIn token of Pan's app that introspection reports inactive (revoked) while user-info still answers.</summary>
    public SocialLogin SignInLinkedInRevoked(SocialUser user)
    {
        var login = SignIn("linkedin", user);
        inactiveLinkedIn[login.Token] = true;
        return login;
    }

    /// <summary>
    /// A Graph access token for <paramref name="user"/> as Microsoft issues them to work or school accounts: a JWT for
    /// Graph naming the app (<c>appid</c>, or <c>azp</c> with <paramref name="v2"/>), signed by a key Pan does not know
    /// (Graph's). Graph (this server) accepts it. <paramref name="appId"/> null leaves the app out.
    /// </summary>
    public string SignInMicrosoftAccessToken(SocialUser user, string? appId, bool v2 = false, string tenant = MicrosoftTenant)
    {
        var token = GraphAccessToken(user, appId, v2, tenant);
        tokens[("microsoft_graph", token)] = (user, null, appId);
        return token;
    }

    /// <summary>An opaque Graph access token (as personal accounts get), which Graph accepts.</summary>
    public string SignInMicrosoftOpaqueToken(SocialUser user)
    {
        var token = "EwB" + Random() + Random();
        tokens[("microsoft_graph", token)] = (user, null, null);
        return token;
    }

    /// <summary>
    /// A Microsoft identity platform v2.0 ID token for <paramref name="user"/>, signed by the published key unless
    /// <paramref name="otherKey"/>. A work or school user's <c>oid</c> is its Graph id; a personal user's (tenant
    /// <see cref="MicrosoftConsumerTenant"/>) is <c>00000000-0000-0000-</c> and its 16-digit Graph id.
    /// </summary>
    public string MicrosoftIdToken(SocialUser user, DateTimeOffset now, string audience = MicrosoftClientId, string tenant = MicrosoftTenant,
        string? issuer = null, TimeSpan? lifetime = null, bool otherKey = false, IDictionary<string, object>? extra = null)
    {
        var key = otherKey ? new RsaSecurityKey(RSA.Create(2048)) { KeyId = MicrosoftKeyId } : new RsaSecurityKey(microsoftKey) { KeyId = MicrosoftKeyId };
        var oid = tenant == MicrosoftConsumerTenant ? "00000000-0000-0000-" + user.Id[..4] + "-" + user.Id[4..] : user.Id;
        var claims = new Dictionary<string, object>
        {
            ["oid"] = oid,
            ["tid"] = tenant,
            ["sub"] = "pairwise-" + Random(),
            ["name"] = user.Name,
            ["preferred_username"] = user.Email ?? user.Id + "@contoso.onmicrosoft.com",
            ["ver"] = "2.0",
        };
        if (user.Email is not null)
        {
            claims["email"] = user.Email;
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, object>())
        {
            claims[name] = value;
        }

        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? $"https://login.microsoftonline.com/{tenant}/v2.0",
            Audience = audience,
            IssuedAt = (expires - TimeSpan.FromHours(1)).UtcDateTime,
            NotBefore = (expires - TimeSpan.FromHours(1)).UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>A Google ID token (RS256) for <paramref name="user"/>, signed by the published key unless <paramref name="otherKey"/>.</summary>
    public string GoogleIdToken(SocialUser user, DateTimeOffset now, string audience = GoogleClientId, string issuer = "https://accounts.google.com",
        TimeSpan? lifetime = null, bool otherKey = false)
    {
        var key = otherKey ? new RsaSecurityKey(RSA.Create(2048)) { KeyId = GoogleKeyId } : new RsaSecurityKey(googleKey) { KeyId = GoogleKeyId };
        var claims = new Dictionary<string, object> { ["sub"] = user.Id, ["name"] = user.Name, ["email_verified"] = user.EmailVerified };
        if (user.Email is not null)
        {
            claims["email"] = user.Email;
        }

        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = (expires - TimeSpan.FromHours(1)).UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    private string GraphAccessToken(SocialUser user, string? appId, bool v2 = false, string tenant = MicrosoftTenant)
    {
        var claims = new Dictionary<string, object> { ["oid"] = user.Id, ["tid"] = tenant, ["scp"] = "openid profile email User.Read" };
        if (appId is not null)
        {
            claims[v2 ? "azp" : "appid"] = appId;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = $"https://sts.windows.net/{tenant}/",
            Audience = GraphAppId,
            Claims = claims,
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(graphKey) { KeyId = "graph-key" }, SecurityAlgorithms.RsaSha256),
        });
    }
}
