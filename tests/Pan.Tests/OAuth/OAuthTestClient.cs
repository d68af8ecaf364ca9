using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Pan.Data.Members;
using Pan.Oauth;
using Pan.Server.Pages.SignIn;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.OAuth;

/// <summary>A PKCE pair (RFC 7636): the verifier and its S256 challenge.</summary>
public sealed record Pkce(string Verifier, string Challenge)
{
    public static Pkce Create()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return new Pkce(verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }
}

/// <summary>A member signed in to Pan: the member, a Pan access token (gRPC) and its auth session (the member cookie).</summary>
public sealed record SignedIn(Member Member, string AccessToken, long SessionId);

/// <summary>What the OAuth tests do over and over: sign a member in, run the gRPC consent flow, call the HTTP endpoints.</summary>
public static class OAuthTestClient
{
    public static async Task<SignedIn> SignInAsync(PanServer server)
    {
        var member = await TestMembers.CreateAsync(server, m => m.Email = TestMembers.UniqueName("mail") + "@example.test");
        var auth = await TestMembers.AuthTokenAsync(server, member);
        var access = await TestMembers.AccessTokenAsync(server, auth, member);
        await using var scope = server.Services.CreateAsyncScope();
        var claims = await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAuthTokenAsync(auth, default);
        return new SignedIn(member, access, claims!.SessionId);
    }

    public static DoRequest Request(SignedIn who, string clientId, string redirect, string scope, Pkce pkce, string method = "S256") => new()
    {
        PanAccessToken = who.AccessToken,
        ClientId = clientId,
        RedirectUri = redirect,
        ResponseType = "code",
        Scope = scope,
        State = "st-" + Guid.NewGuid().ToString("N"),
        Nonce = "n-" + Guid.NewGuid().ToString("N"),
        CodeChallenge = pkce.Challenge,
        CodeChallengeMethod = method,
    };

    /// <summary>Do then Approve over gRPC; returns the client redirect (code and state).</summary>
    public static async Task<Uri> ConsentAsync(PanServer server, SignedIn who, DoRequest request, bool remember = false, PanServer? approveOn = null)
    {
        var started = await new ConsentProcess.ConsentProcessClient(server.Grpc).DoAsync(request);
        if (!started.ConsentRequired)
        {
            return new Uri(started.RedirectUri);
        }

        var approved = await new ConsentProcess.ConsentProcessClient((approveOn ?? server).Grpc).ApproveAsync(
            new ApproveRequest { RequestId = started.RequestId, PanAccessToken = who.AccessToken, Remember = remember });
        return new Uri(approved.RedirectUri);
    }

    public static string Param(Uri uri, string name) =>
        QueryHelpers.ParseQuery(uri.Query).TryGetValue(name, out var value) ? value.ToString() : string.Empty;

    /// <summary>POSTs a form to an endpoint of the provider and returns the status and JSON body.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Json)> PostFormAsync(PanServer server, string path, IDictionary<string, string> form)
    {
        using var response = await server.Http.PostAsync(path, new FormUrlEncodedContent(form));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>An HTTP client that keeps cookies, does not follow redirects and carries the member cookie of <paramref name="who"/>.</summary>
    public static HttpClient Browser(PanServer server, SignedIn? who, CookieContainer? jar = null)
    {
        var cookies = jar ?? new CookieContainer();
        if (who is not null)
        {
            var options = server.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(MemberCookie.Scheme);
            var principal = MemberCookie.Create(new SignedInMember(who.Member.Uid, who.Member.ObjectId, who.Member.AccountId, who.SessionId, AuthMethods.Phone));
            // Why IssuedUtc: the cookie handler stamps it at sign-in, and prompt=login / max_age compare it (the member's sign-in time).
            var properties = new AuthenticationProperties { IssuedUtc = server.Clock.GetUtcNow() };
            var ticket = options.TicketDataFormat.Protect(new AuthenticationTicket(principal, properties, MemberCookie.Scheme));
            cookies.Add(server.HttpUri, new Cookie(options.Cookie.Name!, ticket));
        }

        return new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies, UseCookies = true }) { BaseAddress = server.HttpUri };
    }
}
