using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Pan.Server.Omniauth;

/// <summary>What the client sent about the provider account: the token and the provider-specific inputs.</summary>
/// <param name="Secret"><c>omniauth_secret</c> (twitter: the OAuth 1.0a token secret).</param>
/// <param name="BundleId"><c>bundle_id</c> (twitter: selects the consumer key).</param>
/// <param name="OpenId"><c>open_id</c> (qq_connect, wechat).</param>
public sealed record ProviderCredentials(string Provider, string Token, string? Secret, string? BundleId, string? OpenId);

/// <summary>
/// Checks an <c>omniauth_token</c> against the provider's own API and returns the provider's user. Every base URL
/// is configurable (<c>Pan:Omniauth:*</c>), so tests point them at loopback servers speaking the providers' APIs.
/// </summary>
public sealed class SocialProviders(ProviderHttp http, GoogleIdTokens googleIdTokens, MicrosoftAccounts microsoft, IOptions<OmniauthOptions> options, TimeProvider clock)
{
    public const string Facebook = "facebook";
    public const string Google = "google_oauth2";
    public const string Twitter = "twitter";
    public const string LinkedIn = "linkedin";
    public const string Qq = "qq_connect";
    public const string WeChat = "wechat";
    public const string Microsoft = "microsoft_graph";

    public static readonly IReadOnlyList<string> All = [Facebook, Google, Twitter, LinkedIn, Qq, WeChat, Microsoft];

    public Task<ProviderIdentity> VerifyAsync(ProviderCredentials credentials, CancellationToken cancellationToken) => credentials.Provider switch
    {
        Facebook => FacebookAsync(credentials.Token, cancellationToken),
        Google => LooksLikeJwt(credentials.Token)
            ? googleIdTokens.VerifyAsync(credentials.Token, cancellationToken)
            : GoogleAccessTokenAsync(credentials.Token, cancellationToken),
        Twitter => TwitterAsync(credentials, cancellationToken),
        LinkedIn => LinkedInAsync(credentials.Token, cancellationToken),
        Qq => QqAsync(credentials.Token, credentials.OpenId!, cancellationToken),
        WeChat => WeChatAsync(credentials.Token, credentials.OpenId!, cancellationToken),
        Microsoft => microsoft.VerifyAsync(credentials.Token, cancellationToken),
        _ => throw new ProviderRejectedException("Unknown provider."),
    };

    /// <summary>Three base64url parts separated by dots: an ID token rather than an opaque access token.</summary>
    private static bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2 && token.StartsWith("eyJ", StringComparison.Ordinal);

    /// <summary>Graph API <c>/me?fields=id,name,email</c>. Facebook returns only confirmed emails.</summary>
    private async Task<ProviderIdentity> FacebookAsync(string token, CancellationToken cancellationToken)
    {
        var settings = options.Value.Facebook;
        var query = "me?fields=id,name,email&access_token=" + Uri.EscapeDataString(token);
        if (!string.IsNullOrEmpty(settings.AppSecret))
        {
            var proof = HMACSHA256.HashData(Encoding.UTF8.GetBytes(settings.AppSecret), Encoding.UTF8.GetBytes(token));
            query += "&appsecret_proof=" + Convert.ToHexStringLower(proof);
        }

        var me = await http.GetJsonAsync(Facebook, new HttpRequestMessage(HttpMethod.Get, ProviderHttp.Join(settings.GraphBaseUrl, query)), cancellationToken);
        var email = ProviderHttp.Text(me, "email");
        return new ProviderIdentity(Facebook, ProviderHttp.UserId(me, "id"), email, email is not null, ProviderHttp.Text(me, "name"));
    }

    /// <summary>
    /// A Google access token: tokeninfo first, which must say it was issued to one of our client ids (a token another
    /// app obtained for the user must not sign in here), then the OpenID user-info for the user.
    /// </summary>
    private async Task<ProviderIdentity> GoogleAccessTokenAsync(string token, CancellationToken cancellationToken)
    {
        var settings = options.Value.Google;
        var url = new UriBuilder(settings.TokenInfoUrl) { Query = "access_token=" + Uri.EscapeDataString(token) }.Uri;
        var info = await http.GetJsonAsync(Google, new HttpRequestMessage(HttpMethod.Get, url), cancellationToken);
        var audience = ProviderHttp.Text(info, "aud");
        var party = ProviderHttp.Text(info, "azp");
        if (!settings.ClientIds.Any(id => id == audience || id == party))
        {
            throw new ProviderRejectedException("The Google access token was issued to another client.");
        }

        return await OpenIdUserInfoAsync(Google, settings.UserInfoUrl, token, cancellationToken);
    }

    /// <summary>
    /// LinkedIn: with <c>LinkedIn:ClientId</c> set, the token is introspected first (<c>POST introspectToken</c> with our
    /// client's id and secret) and must be <c>active</c>, issued to our <c>client_id</c>, not <c>status</c> revoked or
    /// expired and not past <c>expires_at</c> by Pan's clock; then OpenID user-info. Without it, user-info alone.
    /// </summary>
    /// <remarks>
    /// Field names follow LinkedIn's "Token Introspection" page (<c>active</c> boolean, <c>client_id</c>, <c>status</c>
    /// active/revoked/expired, <c>expires_at</c> epoch seconds). Assumed, not seen live: an unknown or foreign token
    /// answers <c>active</c> false or a 4xx (both refused); an introspection refusing our client credentials answers
    /// 4xx, which refuses every token (403) until the secret is fixed.
    /// </remarks>
    private async Task<ProviderIdentity> LinkedInAsync(string token, CancellationToken cancellationToken)
    {
        var settings = options.Value.LinkedIn;
        if (settings.TiedToClient)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, settings.IntrospectionUrl)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["token"] = token,
                    ["client_id"] = settings.ClientId!,
                    ["client_secret"] = settings.ClientSecret ?? string.Empty,
                }),
            };
            var info = await http.GetJsonAsync(LinkedIn, request, cancellationToken);
            var active = info.TryGetProperty("active", out var a) && a.ValueKind == JsonValueKind.True;
            if (!active || ProviderHttp.Text(info, "status") is { } status && status != "active")
            {
                throw new ProviderRejectedException("LinkedIn says the token is not active.");
            }

            if (!string.Equals(ProviderHttp.Text(info, "client_id"), settings.ClientId, StringComparison.Ordinal))
            {
                throw new ProviderRejectedException("The LinkedIn token was issued to another client.");
            }

            if (info.TryGetProperty("expires_at", out var e) && e.TryGetInt64(out var expiresAt) && DateTimeOffset.FromUnixTimeSeconds(expiresAt) <= clock.GetUtcNow())
            {
                throw new ProviderRejectedException("LinkedIn says the token has expired.");
            }
        }

        return await OpenIdUserInfoAsync(LinkedIn, settings.UserInfoUrl, token, cancellationToken);
    }

    /// <summary>OpenID Connect user-info with a bearer token (Google access tokens, LinkedIn): sub, email, email_verified, name.</summary>
    private async Task<ProviderIdentity> OpenIdUserInfoAsync(string provider, Uri url, string token, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var info = await http.GetJsonAsync(provider, request, cancellationToken);
        return new ProviderIdentity(provider, ProviderHttp.UserId(info, "sub"), ProviderHttp.Text(info, "email"), ProviderHttp.Flag(info, "email_verified"), ProviderHttp.Text(info, "name"));
    }

    /// <summary>
    /// OAuth 1.0a <c>GET /1.1/account/verify_credentials.json?include_email=true&amp;skip_status=true</c>, signed with
    /// the consumer key of <c>bundle_id</c> and the user's token and secret. Twitter returns an email only when the
    /// user confirmed it.
    /// </summary>
    private async Task<ProviderIdentity> TwitterAsync(ProviderCredentials credentials, CancellationToken cancellationToken)
    {
        var settings = options.Value.Twitter;
        if (credentials.BundleId is null || !settings.Apps.TryGetValue(credentials.BundleId, out var app))
        {
            throw new ProviderRejectedException("No Twitter consumer is configured for this bundle_id.");
        }

        var url = ProviderHttp.Join(settings.BaseUrl, "1.1/account/verify_credentials.json?include_email=true&skip_status=true");
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Authorization", OAuth1Signer.AuthorizationHeader(
            "GET", url, app.ConsumerKey, app.ConsumerSecret, credentials.Token, credentials.Secret ?? string.Empty, clock.GetUtcNow()));
        var user = await http.GetJsonAsync(Twitter, request, cancellationToken);
        var email = ProviderHttp.Text(user, "email");
        return new ProviderIdentity(Twitter, ProviderHttp.UserId(user, "id_str"), string.IsNullOrEmpty(email) ? null : email, !string.IsNullOrEmpty(email), ProviderHttp.Text(user, "name"));
    }

    /// <summary>
    /// QQ Connect: <c>/oauth2.0/me?access_token=…&amp;fmt=json</c> names the token's app (<c>client_id</c>, which must be one
    /// of <c>Pan:Omniauth:Qq:AppIds</c>) and user (<c>openid</c>, which must equal <c>open_id</c>); then
    /// <c>/user/get_user_info</c> gives the nickname (<c>ret</c> 0 is success). QQ gives no email.
    /// </summary>
    private async Task<ProviderIdentity> QqAsync(string token, string openId, CancellationToken cancellationToken)
    {
        var settings = options.Value.Qq;
        var meUrl = ProviderHttp.Join(settings.BaseUrl, "oauth2.0/me?access_token=" + Uri.EscapeDataString(token) + "&fmt=json");
        var text = await http.GetTextAsync(Qq, new HttpRequestMessage(HttpMethod.Get, meUrl), cancellationToken);
        var me = ParseQqMe(text);
        if (ProviderHttp.Text(me, "error") is not null)
        {
            throw new ProviderRejectedException("QQ rejected the token.");
        }

        var clientId = ProviderHttp.Text(me, "client_id");
        if (clientId is null || !settings.AppIds.Contains(clientId, StringComparer.Ordinal) || ProviderHttp.Text(me, "openid") != openId)
        {
            throw new ProviderRejectedException("The QQ token belongs to another app or user.");
        }

        var infoUrl = ProviderHttp.Join(settings.BaseUrl, "user/get_user_info?access_token=" + Uri.EscapeDataString(token)
            + "&oauth_consumer_key=" + Uri.EscapeDataString(clientId) + "&openid=" + Uri.EscapeDataString(openId));
        var info = await http.GetJsonAsync(Qq, new HttpRequestMessage(HttpMethod.Get, infoUrl), cancellationToken);
        if (ProviderHttp.Text(info, "ret") != "0")
        {
            throw new ProviderRejectedException("QQ refused get_user_info.");
        }

        return new ProviderIdentity(Qq, openId, null, false, ProviderHttp.Text(info, "nickname"));
    }

    /// <summary>WeChat <c>/sns/userinfo?access_token=…&amp;openid=…</c>; an <c>errcode</c> is a rejection. WeChat gives no email.</summary>
    private async Task<ProviderIdentity> WeChatAsync(string token, string openId, CancellationToken cancellationToken)
    {
        var url = ProviderHttp.Join(options.Value.WeChat.BaseUrl,
            "sns/userinfo?access_token=" + Uri.EscapeDataString(token) + "&openid=" + Uri.EscapeDataString(openId));
        var info = await http.GetJsonAsync(WeChat, new HttpRequestMessage(HttpMethod.Get, url), cancellationToken);
        if (ProviderHttp.Text(info, "errcode") is { } code && code != "0")
        {
            throw new ProviderRejectedException("WeChat rejected the token.");
        }

        if (ProviderHttp.Text(info, "openid") != openId)
        {
            throw new ProviderRejectedException("The WeChat token belongs to another user.");
        }

        return new ProviderIdentity(WeChat, openId, null, false, ProviderHttp.Text(info, "nickname"));
    }

    /// <summary>QQ answers <c>callback( {...} );</c> (JSONP) unless <c>fmt=json</c> is honoured; both are read.</summary>
    private static JsonElement ParseQqMe(string text)
    {
        var start = text.IndexOf('{', StringComparison.Ordinal);
        var end = text.LastIndexOf('}');
        if (start < 0 || end < start)
        {
            throw new Errors.DependencyUnavailableException("QQ sent an unreadable answer.");
        }

        try
        {
            using var json = JsonDocument.Parse(text.AsMemory(start, end - start + 1));
            return json.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new Errors.DependencyUnavailableException("QQ sent an unreadable answer.", ex);
        }
    }
}
