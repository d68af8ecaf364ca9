using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Pan.General.Member;
using Pan.Server.Hosting;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;
using static Pan.Tests.Cors.CorsHeaders;
using static Pan.Tests.OAuth.OAuthTestClient;

namespace Pan.Tests.Cors;

/// <summary>
/// Browser apps on the family's own origins (Pan:Cors:AllowedOrigins) may call the API surfaces a browser app needs —
/// gRPC-Web (plain and under /gapi), the HTTP/JSON routes, Omniauth, apinode and the OIDC endpoints an SPA uses — and
/// nothing else: other origins, the hosted pages, /connect/authorize, the admin, internal and consent services get no
/// CORS headers, credentials are never allowed, and without the setting nothing changes.
/// </summary>
public abstract class CorsBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CorsFixture
{
    private const string ValidateName = CorsSurfaces.ValidateName;

    /// <summary>The request headers browser clients of these surfaces send that need the preflight's permission.</summary>
    private static readonly string[] ClientHeaders =
    [
        "content-type", "x-grpc-web", "x-user-agent", "grpc-timeout", "grpc-accept-encoding", "authorization",
        "x-pan-app-id", "x-pan-app-secret", "x-deva-token", "x-deva-appcode", "x-deva-appkey", "x-deva-appsecret", "x-deva-locale",
    ];

    private PanServer Server => fixture.Server;

    [Theory]
    [MemberData(nameof(CorsSurfaces.Browser), MemberType = typeof(CorsSurfaces))]
    public async Task Preflight_FromAnAllowedOrigin_IsAnswered204_WithThePolicy(string path)
    {
        using var response = await PreflightAsync(path, CorsFixture.AllowedOrigin);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(CorsFixture.AllowedOrigin, Single(response, "Access-Control-Allow-Origin"));
        var methods = List(response, "Access-Control-Allow-Methods");
        Assert.Contains("POST", methods);
        Assert.Contains("GET", methods);
        var headers = List(response, "Access-Control-Allow-Headers").Select(h => h.ToLowerInvariant()).ToList();
        Assert.All(ClientHeaders, h => Assert.Contains(h, headers));
        Assert.DoesNotContain("x-pan-internal-key", headers);
        Assert.Equal("600", Single(response, "Access-Control-Max-Age"));
        AssertVariesByOrigin(response);
        AssertNoCredentials(response);
    }

    [Fact]
    public async Task Preflight_FromTheLoopbackDevelopmentOrigin_IsAllowed()
    {
        using var response = await PreflightAsync(ValidateName, CorsFixture.LoopbackOrigin);
        Assert.Equal(CorsFixture.LoopbackOrigin, Single(response, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("https://forum.example.evil.example")]
    [InlineData("https://forum.example:8443")]
    [InlineData("http://forum.example")]
    [InlineData("http://127.0.0.1:5174")]
    [InlineData("null")]
    public async Task Preflight_FromAnotherOrigin_GetsNoCorsHeaders_AndReachesNoEndpoint(string origin)
    {
        foreach (var path in new[] { ValidateName, "/gapi" + ValidateName, "/admin/user/accNameOk" })
        {
            var before = fixture.Logs.Lines.Count;
            using var response = await PreflightAsync(path, origin);

            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            AssertNoCors(response);
            var line = await AccessLineAsync(before, "OPTIONS");
            Assert.Contains($" Route={RequestLog.NoRoute} ", line, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("/gapi")]
    public async Task GrpcWebCall_FromAnAllowedOrigin_IsReadable(string? prefix)
    {
        using var response = await GrpcWebAsync((prefix ?? string.Empty) + ValidateName,
            new ValidateDisplayNameV2Request { DisplayName = "cors" + Guid.NewGuid().ToString("N")[..8] }, CorsFixture.AllowedOrigin);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(CorsFixture.AllowedOrigin, Single(response, "Access-Control-Allow-Origin"));
        AssertExposesGrpcStatus(response);
        AssertVariesByOrigin(response);
        AssertNoCredentials(response);
    }

    [Fact]
    public async Task TrailersOnlyGrpcWebRefusal_FromAnAllowedOrigin_ExposesItsStatusHeaders()
    {
        using var response = await GrpcWebAsync("/gapi/pan.general.member.MemberServiceV2/Me", new MeRequest { AccessToken = "not-a-token" }, CorsFixture.AllowedOrigin);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("16", Single(response, "grpc-status"));
        Assert.Equal(CorsFixture.AllowedOrigin, Single(response, "Access-Control-Allow-Origin"));
        AssertExposesGrpcStatus(response);
    }

    [Fact]
    public async Task HttpJsonCall_FromAnAllowedOrigin_IsReadable()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/member/validate-display-name-v2")
        {
            Content = new StringContent($"{{\"displayName\":\"cors{Guid.NewGuid().ToString("N")[..8]}\"}}", Encoding.UTF8, "application/json"),
        };
        using var response = await SendAsync(request, CorsFixture.AllowedOrigin);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(CorsFixture.AllowedOrigin, Single(response, "Access-Control-Allow-Origin"));
        AssertVariesByOrigin(response);
        AssertNoCredentials(response);
    }

    [Fact]
    public async Task OmniauthAndApinodeCalls_FromAnAllowedOrigin_AreReadable()
    {
        using var omniauth = await SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v3/verification/email_existed")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = "nobody", ["email"] = "a@example.test" }),
        }, CorsFixture.AllowedOrigin);
        using var apinode = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/admin/user/accNameOk?accName=corsname"), CorsFixture.AllowedOrigin);

        foreach (var response in new[] { omniauth, apinode })
        {
            Assert.Equal(CorsFixture.AllowedOrigin, Single(response, "Access-Control-Allow-Origin"));
            Assert.Contains("Retry-After", List(response, "Access-Control-Expose-Headers"), StringComparer.OrdinalIgnoreCase);
            AssertVariesByOrigin(response);
            AssertNoCredentials(response);
        }
    }

    [Fact]
    public async Task AnSpasOidcCalls_FromAnAllowedOrigin_AreReadable()
    {
        using var discovery = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration"), CorsFixture.AllowedOrigin);
        using var metadata = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/.well-known/oauth-authorization-server"), CorsFixture.AllowedOrigin);
        using var jwks = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/.well-known/jwks"), CorsFixture.AllowedOrigin);
        Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        Assert.Equal(HttpStatusCode.OK, jwks.StatusCode);

        // The public client's code flow with PKCE, the token exchange, user info and revocation, as an SPA does them.
        var who = await SignInAsync(Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(Server, who, Request(who, OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", pkce));
        using var token = await SendAsync(new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.FirstPartyRedirect,
                ["client_id"] = OAuthFixture.FirstPartyClient, ["code_verifier"] = pkce.Verifier,
            }),
        }, CorsFixture.AllowedOrigin);
        var body = await token.Content.ReadAsStringAsync();
        Assert.True(token.StatusCode == HttpStatusCode.OK, body);
        var accessToken = JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;

        using var userInfoRequest = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        userInfoRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var userInfo = await SendAsync(userInfoRequest, CorsFixture.AllowedOrigin);
        Assert.Equal(HttpStatusCode.OK, userInfo.StatusCode);
        using var revoke = await SendAsync(new HttpRequestMessage(HttpMethod.Post, "/connect/revoke")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = accessToken, ["client_id"] = OAuthFixture.FirstPartyClient }),
        }, CorsFixture.AllowedOrigin);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        foreach (var response in new[] { discovery, metadata, jwks, token, userInfo, revoke })
        {
            Assert.Equal(CorsFixture.AllowedOrigin, Single(response, "Access-Control-Allow-Origin"));
            AssertVariesByOrigin(response);
            AssertNoCredentials(response);
        }
    }

    /// <summary>
    /// An answer that ends in an unhandled error (here the token exchange's last write refused by the database) carries
    /// the same CORS headers as any other answer of its route: the allowed origin may read it, and a cache does not
    /// store it for every origin.
    /// </summary>
    [Fact]
    public async Task AnAnswerEndingInAnUnhandledError_FromAnAllowedOrigin_HasTheRoutesCorsHeaders()
    {
        var who = await SignInAsync(Server);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(Server, who, Request(who, OAuthFixture.FirstPartyClient, OAuthFixture.FirstPartyRedirect, "openid", pkce));
        HttpResponseMessage failed;
        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "oauth_tokens", TriggeredWrite.Insert, "NEW.\"Type\" LIKE '%id_token'"))
        {
            failed = await SendAsync(new HttpRequestMessage(HttpMethod.Post, "/connect/token")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = OAuthFixture.FirstPartyRedirect,
                    ["client_id"] = OAuthFixture.FirstPartyClient, ["code_verifier"] = pkce.Verifier,
                }),
            }, CorsFixture.AllowedOrigin);
        }

        using (failed)
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            AssertVariesByOrigin(failed);
            Assert.Equal(CorsFixture.AllowedOrigin, Single(failed, "Access-Control-Allow-Origin"));
            AssertExposesGrpcStatus(failed);
            AssertNoCredentials(failed);
        }

        Assert.Contains(fixture.Logs.Lines, l => l.Contains("An unhandled exception was thrown by the application; answered 500", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Calls_FromAnotherOrigin_AreAnswered_WithoutCorsHeaders()
    {
        using var grpcWeb = await GrpcWebAsync(ValidateName, new ValidateDisplayNameV2Request { DisplayName = "corsother" }, "https://evil.example");
        using var discovery = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration"), "https://evil.example");

        Assert.Equal(HttpStatusCode.OK, grpcWeb.StatusCode);
        Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        AssertNoCors(grpcWeb);
        AssertNoCors(discovery);
        AssertVariesByOrigin(discovery);
    }

    [Theory]
    [MemberData(nameof(CorsSurfaces.Other), MemberType = typeof(CorsSurfaces))]
    public async Task OtherSurfaces_GetNoCorsHeaders_EvenFromAnAllowedOrigin(string path)
    {
        using var preflight = await PreflightAsync(path, CorsFixture.AllowedOrigin);
        using var get = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), CorsFixture.AllowedOrigin);
        using var post = await SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") }, CorsFixture.AllowedOrigin);

        AssertNoCors(preflight);
        AssertNoCors(get);
        AssertNoCors(post);
    }

    [Fact]
    public async Task WithoutTheSetting_NothingGetsCorsHeaders()
    {
        await using var node = await fixture.StartNodeAsync(OAuthFixture.ProviderSettings());
        using var http = new HttpClient { BaseAddress = node.HttpUri };

        foreach (var path in new[] { ValidateName, "/gapi" + ValidateName, "/v2/member/validate-display-name-v2", "/.well-known/openid-configuration", "/connect/token" })
        {
            using var preflight = await PreflightAsync(path, CorsFixture.AllowedOrigin, http);
            AssertNoCors(preflight);
            Assert.Empty(preflight.Headers.Vary);
        }

        using var discovery = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration"), CorsFixture.AllowedOrigin, http);
        Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        AssertNoCors(discovery);
    }

    [Fact]
    public async Task TheConfiguredGrpcWebPrefixAndApinodeBasePath_AreFollowed()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?>(OAuthFixture.ProviderSettings())
        {
            ["Pan:Cors:AllowedOrigins:0"] = CorsFixture.AllowedOrigin,
            ["Pan:Transport:GrpcWebPrefix"] = "/web/rpc",
            ["Pan:Guests:BasePath"] = "/apinode",
        });
        using var http = new HttpClient { BaseAddress = node.HttpUri };

        foreach (var path in new[] { "/web/rpc" + ValidateName, "/apinode/admin/user/accNameOk" })
        {
            using var preflight = await PreflightAsync(path, CorsFixture.AllowedOrigin, http);
            Assert.Equal(CorsFixture.AllowedOrigin, Single(preflight, "Access-Control-Allow-Origin"));
        }

        foreach (var path in new[] { "/gapi" + ValidateName, "/admin/user/accNameOk" })
        {
            using var preflight = await PreflightAsync(path, CorsFixture.AllowedOrigin, http);
            AssertNoCors(preflight);
        }
    }

    private async Task<HttpResponseMessage> PreflightAsync(string path, string origin, HttpClient? http = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", string.Join(",", ClientHeaders));
        return await SendAsync(request, origin, http);
    }

    private Task<HttpResponseMessage> GrpcWebAsync(string path, IMessage message, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(GrpcFrames.Frame(message.ToByteArray())) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc-web");
        request.Headers.Add("x-grpc-web", "1");
        return SendAsync(request, origin);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string origin, HttpClient? http = null)
    {
        using (request)
        {
            request.Headers.Add("Origin", origin);
            var response = await (http ?? Server.Http).SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            return response;
        }
    }

    private async Task<string> AccessLineAsync(int before, string method)
    {
        List<string> Matching() => fixture.Logs.Lines.Skip(before)
            .Where(l => l.StartsWith(RequestLog.Category + " Information: ", StringComparison.Ordinal) && l.Contains($" Method={method} ", StringComparison.Ordinal))
            .ToList();

        // Why wait: the line is written when the pipeline returns, which can be after the client has read the response.
        await Eventually.HoldsAsync(() => Matching().Count > 0);
        return Assert.Single(Matching());
    }
}

public sealed class CorsBehaviour_Sqlite(SqliteCorsFixture f) : CorsBehaviour<SqliteCorsFixture>(f);

public sealed class CorsBehaviour_Postgres(PostgresCorsFixture f) : CorsBehaviour<PostgresCorsFixture>(f);
