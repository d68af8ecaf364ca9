using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;

namespace Pan.Tests.Infrastructure;

/// <summary>The providers' HTTP answers (mapped in <see cref="StartAsync"/>).</summary>
public sealed partial class FakeSocialProviders
{
    private static JsonObject OpenIdClaims(SocialUser u) => new()
    {
        ["sub"] = u.Id,
        ["name"] = u.Name,
        ["email"] = u.Email,
        ["email_verified"] = u.Email is not null && u.EmailVerified,
    };

    private IResult Facebook(HttpContext context)
    {
        var query = context.Request.Query;
        var token = query["access_token"].ToString();
        var proof = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(FacebookAppSecret), Encoding.UTF8.GetBytes(token)));
        if (!tokens.TryGetValue(("facebook", token), out var entry) || query["appsecret_proof"] != proof || query["fields"] != "id,name,email")
        {
            return Results.Json(new JsonObject
            {
                ["error"] = new JsonObject { ["message"] = "Invalid OAuth access token data.", ["type"] = "OAuthException", ["code"] = 190 },
            }, statusCode: 400);
        }

        var me = new JsonObject { ["id"] = entry.User.Id, ["name"] = entry.User.Name };
        if (entry.User.Email is not null)
        {
            me["email"] = entry.User.Email;
        }

        return Results.Json(me);
    }

    private IResult Bearer(HttpContext context, string provider, Func<SocialUser, JsonObject> body)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : string.Empty;
        return tokens.TryGetValue((provider, token), out var entry)
            ? Results.Json(body(entry.User))
            : Results.Json(new JsonObject { ["error"] = "invalid_token" }, statusCode: 401);
    }

    /// <summary>Google's tokeninfo: the token's client (aud, azp) and lifetime, every value a string as Google sends them.</summary>
    private IResult GoogleTokenInfo(HttpContext context)
    {
        return tokens.TryGetValue(("google_oauth2", context.Request.Query["access_token"].ToString()), out var entry)
            ? Results.Json(new JsonObject
            {
                ["azp"] = entry.Client,
                ["aud"] = entry.Client,
                ["sub"] = entry.User.Id,
                ["scope"] = "openid email profile",
                ["expires_in"] = "3599",
            })
            : Results.Json(new JsonObject { ["error"] = "invalid_token", ["error_description"] = "Invalid Value" }, statusCode: 400);
    }

    /// <summary>
    /// LinkedIn's introspectToken: the calling app must authenticate (client_id, client_secret); the answer names the
    /// token's app, <c>active</c>/<c>status</c> and <c>expires_at</c> (epoch seconds). An unknown token is inactive.
    /// </summary>
    private async Task<IResult> LinkedInIntrospection(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        if (form["client_id"] != LinkedInClientId || form["client_secret"] != LinkedInClientSecret)
        {
            return Results.Json(new JsonObject { ["error"] = "invalid_client", ["error_description"] = "Client authentication failed" }, statusCode: 401);
        }

        var token = form["token"].ToString();
        if (!tokens.TryGetValue(("linkedin", token), out var entry))
        {
            return Results.Json(new JsonObject { ["active"] = false });
        }

        var active = !inactiveLinkedIn.ContainsKey(token);
        return Results.Json(new JsonObject
        {
            ["active"] = active,
            ["client_id"] = entry.Client,
            ["authorized_at"] = 1767225600,
            ["created_at"] = 1767225600,
            ["status"] = active ? "active" : "revoked",
            ["expires_at"] = 1767225600 + 365 * 86400,
            ["scope"] = "openid,profile,email",
            ["auth_type"] = "3L",
        });
    }

    private static IResult Jwks(RSA key, string keyId)
    {
        var p = key.ExportParameters(false);
        return Results.Json(new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA",
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["kid"] = keyId,
                ["n"] = Base64UrlEncoder.Encode(p.Modulus),
                ["e"] = Base64UrlEncoder.Encode(p.Exponent),
            }),
        });
    }

    private IResult Twitter(HttpContext context)
    {
        var oauth = ParseOAuthHeader(context.Request.Headers.Authorization.ToString());
        var token = oauth.GetValueOrDefault("oauth_token") ?? string.Empty;
        var invalid = Results.Json(new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = 89, ["message"] = "Invalid or expired token." }) }, statusCode: 401);
        if (!tokens.TryGetValue(("twitter", token), out var entry) || oauth.GetValueOrDefault("oauth_consumer_key") != TwitterConsumerKey)
        {
            return invalid;
        }

        var request = context.Request;
        var baseUrl = $"{request.Scheme}://{request.Host.Value!.ToLowerInvariant()}{request.PathBase}{request.Path}";
        var pairs = request.Query.SelectMany(q => q.Value.Select(v => (q.Key, Value: v ?? string.Empty)))
            .Concat(oauth.Where(p => p.Key != "oauth_signature").Select(p => (p.Key, p.Value)))
            .Select(p => Rfc3986(p.Key) + "=" + Rfc3986(p.Value))
            .Order(StringComparer.Ordinal);
        var baseString = "GET&" + Rfc3986(baseUrl) + "&" + Rfc3986(string.Join('&', pairs));
        // Why: the protocol's algorithm (RFC 5849 HMAC-SHA1).
#pragma warning disable CA5350
        using var hmac = new HMACSHA1(Encoding.ASCII.GetBytes(Rfc3986(TwitterConsumerSecret) + "&" + Rfc3986(entry.Secret!)));
        var expected = Convert.ToBase64String(hmac.ComputeHash(Encoding.ASCII.GetBytes(baseString)));
#pragma warning restore CA5350
        if (oauth.GetValueOrDefault("oauth_signature") != expected || oauth.GetValueOrDefault("oauth_signature_method") != "HMAC-SHA1")
        {
            BadSignatures.Enqueue(baseString);
            return Results.Json(new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = 32, ["message"] = "Could not authenticate you." }) }, statusCode: 401);
        }

        var user = new JsonObject
        {
            ["id"] = long.Parse(entry.User.Id, CultureInfo.InvariantCulture),
            ["id_str"] = entry.User.Id,
            ["name"] = entry.User.Name,
            ["screen_name"] = "u" + entry.User.Id,
        };
        if (entry.User.Email is not null && request.Query["include_email"] == "true")
        {
            user["email"] = entry.User.Email;
        }

        return Results.Json(user);
    }

    private IResult QqMe(HttpContext context)
    {
        var token = context.Request.Query["access_token"].ToString();
        var body = tokens.TryGetValue(("qq_connect", token), out var entry)
            ? new JsonObject { ["client_id"] = entry.Client, ["openid"] = entry.User.Id }
            : new JsonObject { ["error"] = 100016, ["error_description"] = "access token check failed" };
        // Why: QQ answers JSONP whatever fmt says on many deployments; Pan must read it.
        return Results.Text("callback( " + body.ToJsonString() + " );\n", "text/html");
    }

    private IResult QqUserInfo(HttpContext context)
    {
        var query = context.Request.Query;
        var ok = tokens.TryGetValue(("qq_connect", query["access_token"].ToString()), out var entry)
            && query["openid"] == entry.User.Id && query["oauth_consumer_key"] == entry.Client;
        return Results.Json(ok
            ? new JsonObject { ["ret"] = 0, ["msg"] = "", ["nickname"] = entry.User.Name, ["figureurl_qq_2"] = "http://qzapp.qlogo.cn/qzapp/x/100" }
            : new JsonObject { ["ret"] = 100030, ["msg"] = "this api without user authorization" });
    }

    private IResult WeChat(HttpContext context)
    {
        var query = context.Request.Query;
        return tokens.TryGetValue(("wechat", query["access_token"].ToString()), out var entry) && query["openid"] == entry.User.Id
            ? Results.Json(new JsonObject { ["openid"] = entry.User.Id, ["nickname"] = entry.User.Name, ["unionid"] = "u-" + entry.User.Id })
            : Results.Json(new JsonObject { ["errcode"] = 40001, ["errmsg"] = "invalid credential, access_token is invalid or not latest" });
    }

    /// <summary>Parses <c>OAuth k="v", …</c> (values percent-decoded).</summary>
    private static Dictionary<string, string> ParseOAuthHeader(string header)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!header.StartsWith("OAuth ", StringComparison.Ordinal))
        {
            return result;
        }

        foreach (var part in header["OAuth ".Length..].Split(','))
        {
            var kv = part.Trim().Split('=', 2);
            if (kv.Length == 2)
            {
                result[Uri.UnescapeDataString(kv[0])] = Uri.UnescapeDataString(kv[1].Trim('"'));
            }
        }

        return result;
    }

    /// <summary>RFC 3986 §2.1 percent-encoding of UTF-8 bytes, written out byte by byte (independent of Pan's signer).</summary>
    private static string Rfc3986(string value)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
