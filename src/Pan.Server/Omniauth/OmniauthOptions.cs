using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Omniauth;

/// <summary><c>Pan:Omniauth:*</c>: the social-login REST API (providers, tokens, email_existed limits, response constants).</summary>
public sealed class OmniauthOptions : IValidatableObject
{
    public const string Section = "Pan:Omniauth";

    /// <summary>How long to wait for a provider, in seconds (default 10); slower is a 503 envelope.</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>Lifetime of an access token, in seconds (the seed's <c>expires_in</c>, 172800 = 48 h).</summary>
    [Range(60, 30 * 86400, ErrorMessage = "Pan:Omniauth:AccessTokenSeconds must be between 60 and 2592000.")]
    public int AccessTokenSeconds { get; set; } = 172800;

    /// <summary>Days a refresh-token family lives after its last use (sliding; default 30).</summary>
    [Range(1, 365, ErrorMessage = "Pan:Omniauth:RefreshTokenDays must be between 1 and 365.")]
    public int RefreshTokenDays { get; set; } = 30;

    /// <summary>The seed's <c>version_email_log_release_time</c>, returned as is.</summary>
    public DateTimeOffset VersionEmailLogReleaseTime { get; set; } = new(2015, 5, 15, 0, 0, 0, TimeSpan.Zero);

    /// <summary><c>icon_url["100"]</c> of a member without an avatar; empty falls back to <c>Pan:Members:DefaultAvatarUrl</c>.</summary>
    public string DefaultIcon100Url { get; set; } = string.Empty;

    /// <summary><c>icon_url["280"]</c> of a member without an avatar; empty falls back to <c>Pan:Members:DefaultAvatarUrl</c>.</summary>
    public string DefaultIcon280Url { get; set; } = string.Empty;

    /// <summary><c>icon_default_id</c> of a member without an avatar (null for members with one).</summary>
    public string DefaultIconId { get; set; } = "icon1";

    /// <summary>
    /// through_omniauth calls of provider users bound to no member that one client address (IPv6: one /64) may make
    /// per hour (429 beyond): they answer 4028 when the email is a member's. A bound user's sign-in is not counted.
    /// </summary>
    [Range(1, 1_000_000, ErrorMessage = "Pan:Omniauth:UnboundSignInsPerIpPerHour must be between 1 and 1000000.")]
    public int UnboundSignInsPerIpPerHour { get; set; } = 60;

    public EmailExistedLimits EmailExisted { get; set; } = new();

    public FacebookSettings Facebook { get; set; } = new();

    public GoogleSettings Google { get; set; } = new();

    public TwitterSettings Twitter { get; set; } = new();

    public LinkedInSettings LinkedIn { get; set; } = new();

    public QqSettings Qq { get; set; } = new();

    public WeChatSettings WeChat { get; set; } = new();

    public MicrosoftSettings Microsoft { get; set; } = new();

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TimeoutSeconds is < 0.05 or > 60)
        {
            yield return new ValidationResult("Pan:Omniauth:TimeoutSeconds must be between 0.05 and 60.", [nameof(TimeoutSeconds)]);
        }

        foreach (var (name, url) in Urls())
        {
            if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            {
                yield return new ValidationResult($"Pan:Omniauth:{name} must be an absolute http(s) URL.", [name]);
            }
        }

        foreach (var (name, value) in new[] { ("DefaultIcon100Url", DefaultIcon100Url), ("DefaultIcon280Url", DefaultIcon280Url) })
        {
            if (value.Length > 0 && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)))
            {
                yield return new ValidationResult($"Pan:Omniauth:{name} must be empty or an absolute http(s) URL.", [name]);
            }
        }

        if (EmailExisted.PerClientPerHour < 1 || EmailExisted.PerIpPerHour < 1)
        {
            yield return new ValidationResult("Pan:Omniauth:EmailExisted:PerClientPerHour and PerIpPerHour must be at least 1.", ["EmailExisted"]);
        }

        if (EmailExisted.CaptchaAfterPerIpPerHour < 0)
        {
            yield return new ValidationResult("Pan:Omniauth:EmailExisted:CaptchaAfterPerIpPerHour must be at least 0.", ["EmailExisted"]);
        }

        if (string.IsNullOrWhiteSpace(LinkedIn.ClientId) != string.IsNullOrWhiteSpace(LinkedIn.ClientSecret))
        {
            yield return new ValidationResult("Pan:Omniauth:LinkedIn:ClientId and ClientSecret must be set together.", ["LinkedIn"]);
        }

        if (Microsoft.ClientIds.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult("Pan:Omniauth:Microsoft:ClientIds must not have an empty entry.", ["Microsoft.ClientIds"]);
        }

        if (Microsoft.TenantIds.Any(t => !Guid.TryParseExact(t, "D", out _)))
        {
            yield return new ValidationResult("Pan:Omniauth:Microsoft:TenantIds entries must be tenant ids (GUIDs such as 72f988bf-86f1-41af-91ab-2d7cd011db47).", ["Microsoft.TenantIds"]);
        }

        if (Microsoft.TenantIds.Count > 0 && Microsoft.ClientIds.Count == 0)
        {
            // Why: without ClientIds Pan only asks Graph who the user is, and Graph's answer names no tenant.
            yield return new ValidationResult("Pan:Omniauth:Microsoft:TenantIds needs Pan:Omniauth:Microsoft:ClientIds.", ["Microsoft.TenantIds"]);
        }

        foreach (var (bundle, app) in Twitter.Apps)
        {
            if (string.IsNullOrWhiteSpace(app.ConsumerKey) || string.IsNullOrWhiteSpace(app.ConsumerSecret))
            {
                yield return new ValidationResult($"Pan:Omniauth:Twitter:Apps:{bundle} needs both ConsumerKey and ConsumerSecret.", ["Twitter.Apps"]);
            }
        }
    }

    private IEnumerable<(string Name, Uri Url)> Urls()
    {
        yield return ("Facebook:GraphBaseUrl", Facebook.GraphBaseUrl);
        yield return ("Google:UserInfoUrl", Google.UserInfoUrl);
        yield return ("Google:JwksUrl", Google.JwksUrl);
        yield return ("Google:TokenInfoUrl", Google.TokenInfoUrl);
        yield return ("Twitter:BaseUrl", Twitter.BaseUrl);
        yield return ("LinkedIn:UserInfoUrl", LinkedIn.UserInfoUrl);
        yield return ("LinkedIn:IntrospectionUrl", LinkedIn.IntrospectionUrl);
        yield return ("Qq:BaseUrl", Qq.BaseUrl);
        yield return ("WeChat:BaseUrl", WeChat.BaseUrl);
        yield return ("Microsoft:GraphBaseUrl", Microsoft.GraphBaseUrl);
        yield return ("Microsoft:JwksUrl", Microsoft.JwksUrl);
    }
}

/// <summary><c>Pan:Omniauth:EmailExisted:*</c>: fixed one-hour windows, counted in the database (shared by every node).</summary>
public sealed class EmailExistedLimits
{
    public int PerClientPerHour { get; set; } = 1000;

    public int PerIpPerHour { get; set; } = 60;

    /// <summary>
    /// With <c>Pan:Captcha:Mode</c> risk: calls from one client address answered without a captcha per hour (the
    /// per-address window above); past it a call needs a reCAPTCHA token. 0 asks every call, like mode always; a value
    /// at or above <see cref="PerIpPerHour"/> never asks (the limit answers first).
    /// </summary>
    public int CaptchaAfterPerIpPerHour { get; set; } = 10;
}

public sealed class FacebookSettings
{
    /// <summary>Graph API base; Pan calls <c>GET {base}/me?fields=id,name,email</c>.</summary>
    public Uri GraphBaseUrl { get; set; } = new("https://graph.facebook.com/");

    /// <summary>When set, every call carries <c>appsecret_proof</c> (HMAC-SHA256 of the token with this secret).</summary>
    public string? AppSecret { get; set; }
}

public sealed class GoogleSettings
{
    /// <summary>OpenID Connect user-info endpoint, for access tokens.</summary>
    public Uri UserInfoUrl { get; set; } = new("https://openidconnect.googleapis.com/v1/userinfo");

    /// <summary>Google's tokeninfo endpoint: an access token is accepted only when it was issued to one of <see cref="ClientIds"/>.</summary>
    public Uri TokenInfoUrl { get; set; } = new("https://oauth2.googleapis.com/tokeninfo");

    /// <summary>Google's signing keys (JWKS), for ID tokens.</summary>
    public Uri JwksUrl { get; set; } = new("https://www.googleapis.com/oauth2/v3/certs");

    /// <summary>
    /// OAuth client ids of the family's apps: ID tokens must name one as <c>aud</c>, access tokens as <c>aud</c> or
    /// <c>azp</c> at tokeninfo. Empty: no Google token is accepted (fail closed).
    /// </summary>
    public List<string> ClientIds { get; set; } = [];
}

public sealed class TwitterSettings
{
    /// <summary>API base; Pan calls <c>GET {base}/1.1/account/verify_credentials.json</c>.</summary>
    public Uri BaseUrl { get; set; } = new("https://api.twitter.com/");

    /// <summary>Consumer key and secret per <c>bundle_id</c> (the app that obtained the user's token).</summary>
    public Dictionary<string, TwitterApp> Apps { get; set; } = new(StringComparer.Ordinal);
}

public sealed class TwitterApp
{
    public string ConsumerKey { get; set; } = string.Empty;

    public string ConsumerSecret { get; set; } = string.Empty;
}

public sealed class LinkedInSettings
{
    /// <summary>OpenID Connect user-info endpoint (Sign In with LinkedIn using OpenID Connect).</summary>
    public Uri UserInfoUrl { get; set; } = new("https://api.linkedin.com/v2/userinfo");

    /// <summary>LinkedIn's token introspection endpoint (<c>POST</c> form <c>token</c>, <c>client_id</c>, <c>client_secret</c>).</summary>
    public Uri IntrospectionUrl { get; set; } = new("https://www.linkedin.com/oauth/v2/introspectToken");

    /// <summary>
    /// The family's LinkedIn app. When set (with <see cref="ClientSecret"/>), a token is introspected first and accepted
    /// only when it is active and was issued to this client. Empty: any token LinkedIn's user-info accepts is (start-up warning).
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>The secret of <see cref="ClientId"/>, needed by introspection.</summary>
    public string? ClientSecret { get; set; }

    public bool TiedToClient => !string.IsNullOrWhiteSpace(ClientId);
}

public sealed class QqSettings
{
    /// <summary>QQ Connect base; Pan calls <c>/oauth2.0/me</c> then <c>/user/get_user_info</c>.</summary>
    public Uri BaseUrl { get; set; } = new("https://graph.qq.com/");

    /// <summary>QQ Connect app ids (<c>client_id</c> of <c>/oauth2.0/me</c>) whose tokens are accepted. Empty: none.</summary>
    public List<string> AppIds { get; set; } = [];
}

public sealed class WeChatSettings
{
    /// <summary>WeChat Open Platform base; Pan calls <c>/sns/userinfo</c>.</summary>
    public Uri BaseUrl { get; set; } = new("https://api.weixin.qq.com/");
}

public sealed class MicrosoftSettings
{
    /// <summary>Microsoft Graph base; Pan calls <c>GET {base}/v1.0/me</c>.</summary>
    public Uri GraphBaseUrl { get; set; } = new("https://graph.microsoft.com/");

    /// <summary>The Microsoft identity platform's signing keys (JWKS, all tenants and personal accounts), for ID tokens.</summary>
    public Uri JwksUrl { get; set; } = new("https://login.microsoftonline.com/common/discovery/v2.0/keys");

    /// <summary>
    /// Application (client) ids of the family's apps. When set, an ID token must name one as <c>aud</c> and a Graph
    /// access token one as <c>appid</c>/<c>azp</c>; opaque access tokens are refused. Empty: any token Graph accepts is
    /// (start-up warning).
    /// </summary>
    public List<string> ClientIds { get; set; } = [];

    /// <summary>
    /// Directory (tenant) ids whose users may sign in, for a family that serves only its own organisations; personal
    /// Microsoft accounts are tenant <c>9188040d-6c67-4c5b-b112-36a304b66dad</c>. Checked on the ID token's verified
    /// <c>tid</c> and on a Graph access token's <c>tid</c>; needs <see cref="ClientIds"/> (opaque tokens, which name no
    /// tenant, are refused then). Empty: every tenant and personal accounts.
    /// </summary>
    public List<string> TenantIds { get; set; } = [];
}
