using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 17 on the hand-written HTTP surfaces (Omniauth, apinode, the hosted pages, the OAuth provider, avatars,
/// health, metrics): what a careless or hostile client sends — wrong JSON types, deep nesting, duplicate keys, huge
/// strings and bodies, invalid UTF-8, NUL and control characters, broken percent-encoding, repeated parameters, wrong
/// content types, overflowing numbers — is answered in the surface's own error shape, never a 5xx, and logs no Error.
/// </summary>
public abstract partial class HostileInputBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : HostileInputFixture
{
    private const string Json = "Content-Type: application/json";
    private const string Form = "Content-Type: application/x-www-form-urlencoded";

    private static readonly string[] OmniauthFields =
    [
        "client_id", "client_secret", "provider", "omniauth_token", "omniauth_secret", "bundle_id", "open_id", "email", "password",
        "refresh_token", "recaptcha_token", "recaptcha_platform",
    ];

    private static readonly string[] ApinodeFields =
        ["accName", "passwd", "passwd2", "email", "mobile", "dspName", "fname", "lname", "addr", "aux", "_loc", "_tkn", "actCode", "delToken"];

    private static readonly string[] ApinodeOperations = ["createTemp", "convertTemp", "login", "logout", "accNameOk", "deleteVerify", "delete"];

    private readonly List<string> failures = [];

    private enum Shape
    {
        /// <summary>Omniauth: a JSON object with a numeric <c>code</c> (email_existed answers a well-formed email whatever else is sent).</summary>
        Omniauth,

        /// <summary>apinode: HTTP 200 and the envelope, whose code is not the internal or database error.</summary>
        Apinode,

        /// <summary>OAuth provider endpoints: any answer below 500; a 400 or 401 carries <c>error</c> when it is JSON.</summary>
        OAuth,

        /// <summary>Pages, avatars, health, metrics: any answer below 500.</summary>
        Plain,
    }

    private PanServer Server => fixture.Server;

    [Fact]
    public async Task Omniauth_HostileBodies_AnswerItsErrorShape()
    {
        foreach (var action in new[] { "through_omniauth", "email_existed", "refresh_token" })
        {
            var path = "/api/v3/verification/" + action;
            var valid = new Dictionary<string, string>
            {
                ["client_id"] = HostileInputFixture.App, ["client_secret"] = fixture.AppSecret, ["provider"] = "google",
                ["omniauth_token"] = "not-a-token", ["email"] = "someone@example.test", ["refresh_token"] = "not-a-token",
            };
            await FuzzBodiesAsync(Shape.Omniauth, "POST", path, valid, OmniauthFields);
        }

        AssertNoFailures();
    }

    // Why every provider: each checks its own credentials (an id token, an OAuth 1 signature, an open id) with its own code.
    [Theory]
    [InlineData("facebook")]
    [InlineData("google")]
    [InlineData("twitter")]
    [InlineData("linkedin")]
    [InlineData("qq")]
    [InlineData("wechat")]
    [InlineData("microsoft")]
    public async Task Omniauth_HostileProviderCredentials_AnswerItsErrorShape(string provider)
    {
        var valid = new Dictionary<string, string>
        {
            ["client_id"] = HostileInputFixture.App, ["client_secret"] = fixture.AppSecret, ["provider"] = provider, ["omniauth_token"] = "not-a-token",
            ["omniauth_secret"] = "not-a-secret", ["bundle_id"] = "com.example.app", ["open_id"] = "not-an-id", ["email"] = "someone@example.test",
        };
        string[] fields = ["omniauth_token", "omniauth_secret", "bundle_id", "open_id", "email", "password"];
        foreach (var field in fields)
        {
            foreach (var (name, value) in HostileJsonValues())
            {
                await SendAsync(Shape.Omniauth, $"{provider} JSON {field}={name}", RawHttp.Request("POST", "/api/v3/verification/through_omniauth", JsonWith(valid, field, value), Json));
            }

            foreach (var (name, value) in HostileFormValues(5000))
            {
                await SendAsync(Shape.Omniauth, $"{provider} form {field}={name}", RawHttp.Request("POST", "/api/v3/verification/through_omniauth", FormWith(valid, field, value), Form));
            }
        }

        AssertNoFailures();
    }

    [Fact]
    public async Task EveryRoute_WithAnUnexpectedMethod_IsNever5xx()
    {
        foreach (var path in new[]
        {
            "/api/v3/verification/through_omniauth", "/admin/user/login", "/admin/user/activate/1@2", "/account/sign-in", "/account/reset-password",
            "/account/consent", "/account/apps", "/connect/authorize", "/connect/token", "/connect/userinfo", "/connect/endsession", "/connect/introspect",
            "/.well-known/openid-configuration", "/avatars/x.png", "/healthz",
        })
        {
            foreach (var method in new[] { "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD", "FOO", "GET" })
            {
                await SendAsync(Shape.Plain, $"{method} {path}", RawHttp.Request(method, path, "{}"u8.ToArray(), Json));
            }
        }

        AssertNoFailures();
    }

    [Fact]
    public async Task Apinode_HostileBodiesQueriesAndHeaders_AnswerTheEnvelope()
    {
        var token = await CreateGuestTokenAsync();
        string[] appHeaders = [$"x-deva-appcode: {HostileInputFixture.App}", $"x-deva-appsecret: {fixture.AppSecret}", $"x-deva-token: {token}"];
        var valid = new Dictionary<string, string>
        {
            ["accName"] = "fuzz_" + Guid.NewGuid().ToString("N")[..8], ["passwd"] = new string('p', 40), ["dspName"] = "Fuzz",
            ["delToken"] = "x", ["actCode"] = "123456@+886912345678",
        };
        foreach (var operation in ApinodeOperations)
        {
            var path = "/admin/user/" + operation;
            await FuzzBodiesAsync(Shape.Apinode, "POST", path, valid, ApinodeFields, appHeaders);
            await FuzzQueriesAsync(Shape.Apinode, path, valid, ApinodeFields, appHeaders);
            foreach (var (name, headers) in HostileApinodeHeaders(token))
            {
                await SendAsync(Shape.Apinode, $"{operation} header {name}", RawHttp.Request("POST", path, Encoding.UTF8.GetBytes("{}"), [Json, .. headers]));
            }
        }

        foreach (var code in new[]
        {
            "%zz", "%", "%00", "%ff%fe", "%00@%00", "123456@%ff", "123456@", "@", "@@@", "123456@+886912345678@x", "%E2%80%AE123456@+886",
            new string('9', 5000) + "@+886912345678", "123456@" + new string('9', 5000), "-1@-1", "99999999999999999999@+886912345678",
            "123456%40%2B886912345678", "..%2F..%2Fadmin", "a%0d%0ab",
        })
        {
            await SendAsync(Shape.Apinode, "activate/" + code, RawHttp.Request("GET", "/admin/user/activate/" + code));
            await SendAsync(Shape.Apinode, "POST activate/" + code, RawHttp.Request("POST", "/admin/user/activate/" + code, [], Form));
        }

        foreach (var path in new[] { "/admin/user/%zz", "/admin/user/%ff", "/admin/user/a/b/c", "/admin/user/" + new string('x', 5000), "/admin/user/login%00" })
        {
            await SendAsync(Shape.Apinode, path, RawHttp.Request("GET", path, null, appHeaders));
        }

        AssertNoFailures();
    }

    [Fact]
    public async Task OAuthEndpoints_HostileFormsQueriesAndHeaders_AreNever5xx()
    {
        string[] tokenFields = ["grant_type", "code", "refresh_token", "client_id", "client_secret", "redirect_uri", "code_verifier", "scope", "username", "password", "resource", "audience"];
        var tokenValid = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = "x", ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
            ["redirect_uri"] = OAuthFixture.WebRedirect, ["code_verifier"] = new string('v', 50),
        };
        await FuzzFormsAsync(Shape.OAuth, "/connect/token", tokenValid, tokenFields);
        tokenValid["grant_type"] = "refresh_token";
        await FuzzFormsAsync(Shape.OAuth, "/connect/token", tokenValid, ["refresh_token", "scope"]);

        string[] introspectFields = ["token", "token_type_hint", "client_id", "client_secret"];
        var introspectValid = new Dictionary<string, string>
        {
            ["token"] = "x", ["token_type_hint"] = "access_token", ["client_id"] = OAuthFixture.WebClient, ["client_secret"] = fixture.WebSecret,
        };
        await FuzzFormsAsync(Shape.OAuth, "/connect/introspect", introspectValid, introspectFields);
        await FuzzFormsAsync(Shape.OAuth, "/connect/revoke", introspectValid, introspectFields);

        string[] authorizeFields =
        [
            "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt", "max_age",
            "login_hint", "ui_locales", "id_token_hint", "response_mode", "request", "request_uri", "pan_consent", "pan_signed_in_after",
        ];
        var authorizeValid = new Dictionary<string, string>
        {
            ["client_id"] = OAuthFixture.WebClient, ["redirect_uri"] = OAuthFixture.WebRedirect, ["response_type"] = "code", ["scope"] = "openid profile",
            ["state"] = "s", ["nonce"] = "n", ["code_challenge"] = new string('c', 43), ["code_challenge_method"] = "S256",
        };
        await FuzzQueriesAsync(Shape.OAuth, "/connect/authorize", authorizeValid, authorizeFields);
        await FuzzFormsAsync(Shape.OAuth, "/connect/authorize", authorizeValid, authorizeFields);

        var endValid = new Dictionary<string, string> { ["id_token_hint"] = "x", ["post_logout_redirect_uri"] = "https://app.example.test/bye", ["state"] = "s", ["client_id"] = OAuthFixture.WebClient };
        await FuzzQueriesAsync(Shape.OAuth, "/connect/endsession", endValid, [.. endValid.Keys]);
        await FuzzFormsAsync(Shape.OAuth, "/connect/endsession", endValid, [.. endValid.Keys]);

        foreach (var authorization in new[]
        {
            "Bearer", "Bearer ", "Bearer x", "Bearer " + new string('x', 7000), "Basic %%%", "Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.e30.", "bearer\tx",
            "Bearer \u00ff\u00fe", "Bearer x, Bearer y",
        })
        {
            await SendAsync(Shape.OAuth, "userinfo " + authorization[..Math.Min(20, authorization.Length)], RawHttp.Request("GET", "/connect/userinfo", null, $"Authorization: {authorization}"));
            await SendAsync(Shape.OAuth, "userinfo POST " + authorization[..Math.Min(20, authorization.Length)], RawHttp.Request("POST", "/connect/userinfo", [], Form, $"Authorization: {authorization}"));
        }

        await SendAsync(Shape.OAuth, "userinfo two Authorization headers", RawHttp.Request("GET", "/connect/userinfo", null, "Authorization: Bearer x", "Authorization: Bearer y"));
        foreach (var path in new[] { "/.well-known/openid-configuration", "/.well-known/jwks", "/connect/%zz", "/connect/token%00", "/.well-known/%ff" })
        {
            await SendAsync(Shape.OAuth, "GET " + path, RawHttp.Request("GET", path + "?x=%zz&x=%ff"));
            await SendAsync(Shape.OAuth, "POST " + path, RawHttp.Request("POST", path, Encoding.UTF8.GetBytes("[1]"), Json));
        }

        AssertNoFailures();
    }

    [Fact]
    public async Task Pages_HostileQueriesAndForms_AreNever5xx()
    {
        var queries = new Dictionary<string, string[]>
        {
            ["/account/sign-in"] = ["returnUrl", "lang", "prompt"],
            ["/account/sign-in-email"] = ["returnUrl", "lang"],
            ["/account/signed-in"] = ["returnUrl", "lang"],
            ["/account/verify-email"] = ["token", "lang"],
            ["/account/reset-password"] = ["token", "lang"],
            ["/account/consent"] = ["request", "returnUrl", "lang"],
            ["/account/apps"] = ["revoked", "lang"],
        };
        foreach (var (path, fields) in queries)
        {
            await FuzzQueriesAsync(Shape.Plain, path, new Dictionary<string, string>(), fields);
        }

        var forms = new Dictionary<string, string[]>
        {
            ["/account/sign-in"] = ["country_code", "phone", "identifier", "password", "flow", "returnUrl", "lang"],
            ["/account/sign-in-code"] = ["code", "resend", "answer", "flow", "ticket", "returnUrl"],
            ["/account/sign-in-member"] = ["member", "ticket", "remember", "returnUrl"],
            ["/account/sign-in-email"] = ["identifier", "password", "returnUrl"],
            ["/account/sign-out"] = ["returnUrl"],
            ["/account/reset-password"] = ["token", "password", "confirm_password", "answer"],
            ["/account/consent"] = ["request", "decision", "remember"],
            ["/account/apps"] = ["client_id"],
        };
        var hidden = await AntiforgeryAsync();
        foreach (var (path, fields) in forms)
        {
            await FuzzFormsAsync(Shape.Plain, path, hidden.Fields, fields, $"Cookie: {hidden.Cookie}");
        }

        AssertNoFailures();
    }

    // Why signed in: the pages and the authorize endpoint look up what the query and form name only for a member.
    [Fact]
    public async Task SignedInPagesAndAuthorize_HostileQueriesAndForms_AreNever5xx()
    {
        var who = await OAuthTestClient.SignInAsync(Server);
        await OAuthTestClient.ConsentAsync(Server, who, OAuthTestClient.Request(who, OAuthFixture.WebClient, OAuthFixture.WebRedirect, "openid profile", Pkce.Create()), remember: true);
        var jar = new CookieContainer();
        OAuthTestClient.Browser(Server, who, jar).Dispose();
        var member = jar.GetCookieHeader(Server.HttpUri);
        var apps = await RawHttp.SendAsync(Server.HttpUri, RawHttp.Request("GET", "/account/apps", null, $"Cookie: {member}"));
        Assert.True(apps.Status == 200, apps.ToString());
        var hidden = Hidden(apps.Body);
        Assert.NotEmpty(hidden);
        var cookie = string.Join("; ", [member, .. SetCookie().Matches(apps.Headers).Select(m => m.Groups[1].Value)]);

        var authorizeValid = new Dictionary<string, string>
        {
            ["client_id"] = OAuthFixture.WebClient, ["redirect_uri"] = OAuthFixture.WebRedirect, ["response_type"] = "code", ["scope"] = "openid profile",
            ["state"] = "s", ["nonce"] = "n", ["code_challenge"] = Pkce.Create().Challenge, ["code_challenge_method"] = "S256",
        };
        string[] authorizeFields =
        [
            "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "prompt", "max_age", "login_hint", "ui_locales", "response_mode",
            "pan_consent", "pan_signed_in_after",
        ];
        await FuzzQueriesAsync(Shape.OAuth, "/connect/authorize", authorizeValid, authorizeFields, $"Cookie: {cookie}");
        await FuzzQueriesAsync(Shape.Plain, "/account/consent", new Dictionary<string, string>(), ["request", "returnUrl", "lang"], $"Cookie: {cookie}");
        await FuzzQueriesAsync(Shape.Plain, "/account/apps", new Dictionary<string, string>(), ["revoked", "lang"], $"Cookie: {cookie}");
        await FuzzQueriesAsync(Shape.Plain, "/account/sign-in", new Dictionary<string, string>(), ["returnUrl", "prompt"], $"Cookie: {cookie}");
        await FuzzQueriesAsync(Shape.Plain, "/account/signed-in", new Dictionary<string, string>(), ["returnUrl"], $"Cookie: {cookie}");
        await FuzzFormsAsync(Shape.Plain, "/account/apps", hidden, ["client_id"], $"Cookie: {cookie}");
        await FuzzFormsAsync(Shape.Plain, "/account/consent", hidden, ["request", "decision", "remember"], $"Cookie: {cookie}");
        await FuzzFormsAsync(Shape.Plain, "/account/sign-in-member", hidden, ["member", "ticket", "remember", "returnUrl"], $"Cookie: {cookie}");

        AssertNoFailures();
    }

    [Fact]
    public async Task AvatarsHealthAndMetrics_HostilePathsAndQueries_AreNever5xx()
    {
        foreach (var file in new[]
        {
            "%zz", "%", "%00", "%ff%fe.png", "..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cwindows", "a%00.png", new string('a', 5000) + ".png", "x.png?size=-1&size=99999999999999999999",
            "x.png?w=%zz", ".png", "%2e%2e", "CON", "a.png%20", "a%0d%0aSet-Cookie:%20x=y",
        })
        {
            await SendAsync(Shape.Plain, "avatar " + file[..Math.Min(30, file.Length)], RawHttp.Request("GET", "/avatars/" + file));
            await SendAsync(Shape.Plain, "avatar HEAD " + file[..Math.Min(30, file.Length)], RawHttp.Request("HEAD", "/avatars/" + file));
        }

        foreach (var target in new[] { "/healthz", "/healthz?x=%zz&x=%ff", "/healthz/%00" })
        {
            await SendAsync(Shape.Plain, "GET " + target, RawHttp.Request("GET", target));
            await SendAsync(Shape.Plain, "POST " + target, RawHttp.Request("POST", target, Encoding.UTF8.GetBytes("[[[["), Json));
        }

        foreach (var target in new[] { "/metrics", "/metrics?name[]=%zz&name[]=%ff", "/metrics/%00", "/%ff", "/metrics?" + new string('a', 6000) })
        {
            await SendAsync(Shape.Plain, "metrics GET " + target[..Math.Min(40, target.Length)], RawHttp.Request("GET", target), fixture.MetricsUri);
            await SendAsync(Shape.Plain, "metrics POST " + target[..Math.Min(40, target.Length)], RawHttp.Request("POST", target, new byte[100_000], Json), fixture.MetricsUri);
            await SendAsync(Shape.Plain, "metrics Accept " + target[..Math.Min(40, target.Length)], RawHttp.Request("GET", target, null, "Accept: application/openmetrics-text; version=%%%; q=abc"), fixture.MetricsUri);
        }

        AssertNoFailures();
    }

    /// <summary>JSON values of every wrong kind, each as the raw bytes of the value.</summary>
    private static IEnumerable<(string Name, byte[] Value)> HostileJsonValues()
    {
        yield return ("array", "[1,2]"u8.ToArray());
        yield return ("object", "{\"a\":{\"b\":[]}}"u8.ToArray());
        yield return ("null", "null"u8.ToArray());
        yield return ("number", "123"u8.ToArray());
        yield return ("huge number", "1e400"u8.ToArray());
        yield return ("long integer", "-99999999999999999999999999999999"u8.ToArray());
        yield return ("fraction", "0.000000000000000000000001"u8.ToArray());
        yield return ("true", "true"u8.ToArray());
        yield return ("1 MB string", Encoding.ASCII.GetBytes("\"" + new string('a', 1 << 20) + "\""));
        yield return ("60 KB string", Encoding.ASCII.GetBytes("\"" + new string('a', 60_000) + "\""));
        yield return ("5000 char string", Encoding.ASCII.GetBytes("\"" + new string('9', 5000) + "\""));
        yield return ("NUL", "\"a\\u0000b\""u8.ToArray());
        yield return ("control characters", "\"\\u0001\\u001b[31m\\u007f\\u0085\""u8.ToArray());
        yield return ("lone surrogate", "\"\\ud800\""u8.ToArray());
        yield return ("invalid UTF-8", [(byte)'"', 0xff, 0xfe, (byte)'"']);
        yield return ("overlong UTF-8", [(byte)'"', 0xc0, 0x80, (byte)'"']);
        yield return ("bidi and newlines", "\"a\\r\\nb\\u202ec\\u2028\""u8.ToArray());
        yield return ("negative", "\"-1\""u8.ToArray());
        yield return ("date out of range", "\"9999-99-99T99:99:99Z\""u8.ToArray());
        yield return ("percent garbage", "\"%zz%ff%\""u8.ToArray());
        yield return ("empty", "\"\""u8.ToArray());
        yield return ("blank", "\"   \""u8.ToArray());
    }

    /// <summary>Form or query values of every wrong kind, percent-encoded as a client would (or would fail to).</summary>
    private static IEnumerable<(string Name, string Value)> HostileFormValues(int longest)
    {
        yield return ("NUL", "a%00b");
        yield return ("control characters", "%01%1b%7f%c2%85");
        yield return ("invalid UTF-8", "%ff%fe");
        yield return ("overlong UTF-8", "%c0%80");
        yield return ("lone surrogate in UTF-8", "%ed%a0%80");
        yield return ("bad percent-encoding", "%zz");
        yield return ("lone percent", "%");
        yield return ("raw high byte", "\u00ff");
        yield return ("bidi and newlines", "a%0d%0ab%e2%80%ae");
        yield return ("long", new string('a', longest));
        yield return ("5000 chars", new string('9', 5000));
        yield return ("negative", "-1");
        yield return ("overflow", "99999999999999999999999999");
        yield return ("huge float", "1e400");
        yield return ("date out of range", "9999-99-99T99%3A99%3A99Z");
        yield return ("looks like JSON", "%5B%7B%7D%5D");
        yield return ("empty", string.Empty);
    }

    private static IEnumerable<(string Name, string[] Headers)> HostileApinodeHeaders(string token)
    {
        yield return ("no app headers", []);
        yield return ("appcode only", [$"x-deva-appcode: {HostileInputFixture.App}"]);
        yield return ("appcode number overflow", ["x-deva-appcode: 99999999999999999999999", "x-deva-appsecret: x"]);
        yield return ("appcode negative", ["x-deva-appcode: -1", "x-deva-appsecret: x"]);
        yield return ("appcode and appkey differ", [$"x-deva-appcode: {HostileInputFixture.App}", "x-deva-appkey: other", "x-deva-appsecret: x"]);
        yield return ("appcode twice", [$"x-deva-appcode: {HostileInputFixture.App}", "x-deva-appcode: other", "x-deva-appsecret: x"]);
        yield return ("appcode high bytes", ["x-deva-appcode: \u00ff\u00fe", "x-deva-appsecret: \u00ff"]);
        yield return ("appcode 7000", ["x-deva-appcode: " + new string('a', 7000), "x-deva-appsecret: x"]);
        yield return ("token garbage", [$"x-deva-appcode: {HostileInputFixture.App}", "x-deva-appsecret: x", "x-deva-token: %zz\u00ff"]);
        yield return ("token twice", [$"x-deva-appcode: {HostileInputFixture.App}", "x-deva-appsecret: x", $"x-deva-token: {token}", "x-deva-token: other"]);
        yield return ("token 7000", [$"x-deva-appcode: {HostileInputFixture.App}", "x-deva-appsecret: x", "x-deva-token: " + new string('t', 7000)]);
        yield return ("locale garbage", [$"x-deva-appcode: {HostileInputFixture.App}", "x-deva-locale: \u00ff;q=%%", "x-deva-appsecret: x"]);
        yield return ("locale number", [$"x-deva-appcode: {HostileInputFixture.App}", "x-deva-locale: 99999999999999999999", "x-deva-appsecret: x"]);
        yield return ("locale negative", [$"x-deva-appcode: {HostileInputFixture.App}", "x-deva-locale: -1", "x-deva-appsecret: x"]);
    }

    /// <summary>Every hostile JSON value in every field, then whole bodies of every wrong kind, as POSTs to <paramref name="path"/>.</summary>
    private async Task FuzzBodiesAsync(Shape shape, string method, string path, Dictionary<string, string> valid, string[] fields, params string[] headers)
    {
        foreach (var field in fields)
        {
            foreach (var (name, value) in HostileJsonValues())
            {
                var body = JsonWith(valid, field, value);
                await SendAsync(shape, $"{path} JSON {field}={name}", RawHttp.Request(method, path, body, [Json, .. headers]));
            }
        }

        var validJson = JsonWith(valid, null, null);
        var bodies = new List<(string Name, string ContentType, byte[] Body)>
        {
            ("empty JSON", Json, []),
            ("JSON array", Json, "[]"u8.ToArray()),
            ("JSON number", Json, "123"u8.ToArray()),
            ("JSON null", Json, "null"u8.ToArray()),
            ("JSON string", Json, "\"s\""u8.ToArray()),
            ("truncated JSON", Json, "{\"a\":"u8.ToArray()),
            ("trailing garbage", Json, [.. validJson, .. "garbage"u8.ToArray()]),
            ("two objects", Json, [.. validJson, .. validJson]),
            ("deep arrays", Json, Encoding.ASCII.GetBytes(new string('[', 100_000))),
            ("deep objects", Json, Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 5000)) + "1" + new string('}', 5000))),
            ("deep value", Json, JsonWith(valid, fields[0], Encoding.ASCII.GetBytes(new string('[', 1000) + new string(']', 1000)))),
            ("duplicate keys", Json, Encoding.UTF8.GetBytes("{" + string.Join(",", valid.Select(v => $"\"{v.Key}\":\"{v.Value}\",\"{v.Key}\":\"other\"")) + "}")),
            ("NUL in a key", Json, JsonWith(valid, "a\\u0000b", "\"x\""u8.ToArray())),
            ("invalid UTF-8 in a key", Json, [.. "{\""u8.ToArray(), 0xff, .. "\":1}"u8.ToArray()]),
            ("lone surrogate key", Json, "{\"\\udc00\":1}"u8.ToArray()),
            ("long key", Json, JsonWith(valid, new string('k', 100_000), "1"u8.ToArray())),
            ("50000 keys", Json, Encoding.ASCII.GetBytes("{" + string.Join(",", Enumerable.Range(0, 50_000).Select(i => $"\"k{i}\":1")) + "}")),
            ("10 MB body", Json, JsonWith(valid, "pad", Encoding.ASCII.GetBytes("\"" + new string('a', 10 << 20) + "\""))),
            ("BOM", Json, [0xef, 0xbb, 0xbf, .. validJson]),
            ("UTF-16 body", "Content-Type: application/json; charset=utf-16", Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(validJson))),
            ("comments", Json, [.. "/* x */"u8.ToArray(), .. validJson]),
            ("form as JSON", Json, FormWith(valid, null, null)),
            ("JSON as form", Form, validJson),
            ("text/plain", "Content-Type: text/plain", validJson),
            ("xml", "Content-Type: application/xml", "<a/>"u8.ToArray()),
            ("no content type", "X-None: 1", validJson),
            ("garbage content type", "Content-Type: ;;;=/\"", validJson),
            ("JSON with unknown charset", "Content-Type: application/json; charset=klingon", validJson),
            ("form with unknown charset", "Content-Type: application/x-www-form-urlencoded; charset=klingon", FormWith(valid, null, null)),
            ("multipart without boundary", "Content-Type: multipart/form-data", validJson),
            ("multipart with a bad part", "Content-Type: multipart/form-data; boundary=b", "--b\r\nnot a header\r\n\r\nx\r\n--b--\r\n"u8.ToArray()),
            ("multipart never ends", "Content-Type: multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx"u8.ToArray()),
            ("two content types", "Content-Type: application/json\r\nContent-Type: text/plain", validJson),
        };
        bodies.AddRange(HostileForms(valid, fields.Take(3).ToArray()).Select(f => (f.Name, Form, f.Body)));
        foreach (var (name, contentType, body) in bodies)
        {
            await SendAsync(shape, $"{path} body {name}", RawHttp.Request(method, path, body, [contentType, .. headers]));
        }

        await SendAsync(shape, $"{path} body chunked 10 MB", Chunked(method, path, JsonWith(valid, "pad", Encoding.ASCII.GetBytes("\"" + new string('a', 10 << 20) + "\"")), [Json, .. headers]));
        await SendAsync(shape, $"{path} body length larger than sent", [.. RawHttp.Request(method, path, null, [Json, "Content-Length: 100", .. headers]), .. "{}"u8.ToArray()]);
    }

    /// <summary>Every hostile form value in every field, then forms of every wrong kind, as POSTs to <paramref name="path"/>.</summary>
    private async Task FuzzFormsAsync(Shape shape, string path, Dictionary<string, string> valid, string[] fields, params string[] headers)
    {
        foreach (var field in fields)
        {
            foreach (var (name, value) in HostileFormValues(1 << 20))
            {
                await SendAsync(shape, $"{path} form {field}={name}", RawHttp.Request("POST", path, FormWith(valid, field, value), [Form, .. headers]));
            }
        }

        foreach (var (name, body) in HostileForms(valid, fields))
        {
            await SendAsync(shape, $"{path} form {name}", RawHttp.Request("POST", path, body, [Form, .. headers]));
        }

        var validForm = FormWith(valid, null, null);
        foreach (var (name, contentType, body) in new (string, string, byte[])[]
        {
            ("JSON", Json, "{\"a\":[1]}"u8.ToArray()),
            ("no content type", "X-None: 1", validForm),
            ("text/plain", "Content-Type: text/plain", validForm),
            ("form with unknown charset", "Content-Type: application/x-www-form-urlencoded; charset=klingon", validForm),
            ("multipart never ends", "Content-Type: multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx"u8.ToArray()),
            ("10 MB", Form, Encoding.ASCII.GetBytes("a=" + new string('a', 10 << 20))),
        })
        {
            await SendAsync(shape, $"{path} form {name}", RawHttp.Request("POST", path, body, [contentType, .. headers]));
        }
    }

    /// <summary>Every hostile value in every field of a GET query (and repeated, and broken queries), to <paramref name="path"/>.</summary>
    private async Task FuzzQueriesAsync(Shape shape, string path, Dictionary<string, string> valid, string[] fields, params string[] headers)
    {
        foreach (var field in fields)
        {
            foreach (var (name, value) in HostileFormValues(100_000))
            {
                await SendAsync(shape, $"{path} query {field}={name}", RawHttp.Request("GET", path + "?" + Encoding.Latin1.GetString(FormWith(valid, field, value)), null, headers));
            }

            await SendAsync(shape, $"{path} query {field} repeated", RawHttp.Request("GET", $"{path}?{Encoding.Latin1.GetString(FormWith(valid, null, null))}&{field}=a&{field}=b", null, headers));
        }

        foreach (var query in new[] { "%zz", "&&&==&", "=x", "a[]=1&a[]=2", "%00=%00", "%ff", "a=1;b=2", "?" })
        {
            await SendAsync(shape, $"{path} query {query}", RawHttp.Request("GET", path + "?" + query, null, headers));
        }
    }

    private static IEnumerable<(string Name, byte[] Body)> HostileForms(Dictionary<string, string> valid, string[] fields)
    {
        var validForm = Encoding.ASCII.GetString(FormWith(valid, null, null));
        foreach (var field in fields)
        {
            yield return ($"{field} repeated", Encoding.ASCII.GetBytes($"{validForm}&{field}=a&{field}=b"));
        }

        yield return ("bad percent key", Encoding.ASCII.GetBytes($"{validForm}&%zz=%zz"));
        yield return ("NUL key", Encoding.ASCII.GetBytes($"{validForm}&a%00b=1"));
        yield return ("empty keys", Encoding.ASCII.GetBytes($"{validForm}&=x&&&=&"));
        yield return ("key of 10000", Encoding.ASCII.GetBytes($"{validForm}&{new string('k', 10_000)}=1"));
        yield return ("5000 keys", Encoding.ASCII.GetBytes(validForm + string.Concat(Enumerable.Range(0, 5000).Select(i => $"&k{i}=1"))));
        yield return ("raw invalid UTF-8", [.. Encoding.ASCII.GetBytes(validForm + "&a="), 0xff, 0xfe]);
    }

    private static byte[] JsonWith(Dictionary<string, string> valid, string? field, byte[]? value)
    {
        var body = new MemoryStream();
        body.WriteByte((byte)'{');
        var first = true;
        foreach (var (key, text) in valid)
        {
            if (key == field)
            {
                continue;
            }

            body.Write(Encoding.UTF8.GetBytes((first ? string.Empty : ",") + JsonSerializer.Serialize(key) + ":" + JsonSerializer.Serialize(text)));
            first = false;
        }

        if (field is not null)
        {
            body.Write(Encoding.UTF8.GetBytes((first ? string.Empty : ",") + "\"" + field + "\":"));
            body.Write(value);
        }

        body.WriteByte((byte)'}');
        return body.ToArray();
    }

    private static byte[] FormWith(Dictionary<string, string> valid, string? field, string? value)
    {
        var pairs = valid.Where(v => v.Key != field).Select(v => Uri.EscapeDataString(v.Key) + "=" + Uri.EscapeDataString(v.Value)).ToList();
        if (field is not null)
        {
            pairs.Add(Uri.EscapeDataString(field) + "=" + value);
        }

        return Encoding.Latin1.GetBytes(string.Join("&", pairs));
    }

    private static byte[] Chunked(string method, string path, byte[] body, string[] headers)
    {
        var head = RawHttp.Request(method, path, null, [.. headers, "Transfer-Encoding: chunked"]);
        var chunks = new MemoryStream();
        chunks.Write(head);
        for (var at = 0; at < body.Length; at += 65536)
        {
            var size = Math.Min(65536, body.Length - at);
            chunks.Write(Encoding.ASCII.GetBytes(size.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\r\n"));
            chunks.Write(body, at, size);
            chunks.Write("\r\n"u8);
        }

        chunks.Write("0\r\n\r\n"u8);
        return chunks.ToArray();
    }

    /// <summary>A guest's apinode token (createTemp).</summary>
    private async Task<string> CreateGuestTokenAsync()
    {
        var answer = await RawHttp.SendAsync(Server.HttpUri, RawHttp.Request(
            "POST", "/admin/user/createTemp", "{}"u8.ToArray(), Json, $"x-deva-appcode: {HostileInputFixture.App}", $"x-deva-appsecret: {fixture.AppSecret}"));
        var json = JsonDocument.Parse(answer.Body).RootElement;
        Assert.True(json.GetProperty("code").GetInt32() == 0, answer.ToString());
        return json.GetProperty("token").GetProperty("token").GetString()!;
    }

    /// <summary>The hidden fields (antiforgery) of the sign-in page and its cookies, so a page's own checks run past them.</summary>
    private async Task<(Dictionary<string, string> Fields, string Cookie)> AntiforgeryAsync()
    {
        var answer = await RawHttp.SendAsync(Server.HttpUri, RawHttp.Request("GET", "/account/sign-in"));
        Assert.Equal(200, answer.Status);
        var fields = Hidden(answer.Body);
        var cookie = string.Join("; ", SetCookie().Matches(answer.Headers).Select(m => m.Groups[1].Value));
        return (fields, cookie);
    }

    /// <summary>The hidden fields of a page's forms (the first value of each name).</summary>
    private static Dictionary<string, string> Hidden(string html) =>
        HiddenField().Matches(html).GroupBy(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToDictionary(g => g.Key, g => WebUtility.HtmlDecode(g.First().Groups[2].Value));

    private async Task SendAsync(Shape shape, string name, byte[] request, Uri? server = null)
    {
        var before = fixture.Logs.Lines.Count;
        var answer = await RawHttp.SendAsync(server ?? Server.HttpUri, request);
        var problem = Problem(shape, answer);
        var errors = fixture.Logs.Lines.Skip(before)
            .Where(l => l.Contains(" Error: ", StringComparison.Ordinal) || l.Contains(" Critical: ", StringComparison.Ordinal))
            .Select(l => l.Length > 600 ? l[..600] : l)
            .ToList();
        if (problem is not null || errors.Count > 0)
        {
            failures.Add($"{(name.Length > 120 ? name[..120] : name)}: {problem ?? answer.ToString()}{string.Concat(errors.Select(e => "\n    log: " + e))}");
        }
    }

    private static string? Problem(Shape shape, RawAnswer answer)
    {
        if (answer.Status is 0 or >= 500)
        {
            return $"answered {answer}";
        }

        // Why: Kestrel refuses a request it cannot parse (request line, headers, body framing) before any Pan code runs.
        if (answer.Status is 400 or 413 or 414 or 431 && answer.Body.Length == 0)
        {
            return null;
        }

        switch (shape)
        {
            case Shape.Omniauth:
                return Code(answer) is not null ? null : $"not Omniauth's shape: {answer}";
            case Shape.Apinode:
                return answer.Status == 200 && Code(answer) is { } code && code is not (-100 or -30) ? null : $"not apinode's envelope: {answer}";
            case Shape.OAuth:
                if (answer.Status is 400 or 401 && answer.Headers.Contains("application/json", StringComparison.OrdinalIgnoreCase))
                {
                    return JsonDocument.Parse(answer.Body).RootElement.TryGetProperty("error", out _) ? null : $"no OAuth error: {answer}";
                }

                return null;
            default:
                return null;
        }
    }

    private static int? Code(RawAnswer answer)
    {
        try
        {
            return JsonDocument.Parse(answer.Body).RootElement.GetProperty("code").GetInt32();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private void AssertNoFailures() => Assert.True(failures.Count == 0, $"{failures.Count} hostile requests were mishandled:\n" + string.Join("\n", failures.OrderBy(f => f.Contains(" answered ", StringComparison.Ordinal) ? 0 : 1).Take(60)));

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">", RegexOptions.CultureInvariant)]
    private static partial Regex HiddenField();

    [GeneratedRegex("(?im)^Set-Cookie: ([^;\r\n]*)", RegexOptions.CultureInvariant)]
    private static partial Regex SetCookie();
}

public sealed class HostileInputBehaviour_Sqlite(SqliteHostileInputFixture f) : HostileInputBehaviour<SqliteHostileInputFixture>(f);

public sealed class HostileInputBehaviour_Postgres(PostgresHostileInputFixture f) : HostileInputBehaviour<PostgresHostileInputFixture>(f);
