using System.Net;
using System.Text;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Pan.Server.Links;
using Pan.Server.Pages.SignIn;

namespace Pan.Server.OAuth;

/// <summary>What an in-process request to the provider answered.</summary>
public sealed record InProcessResponse(int Status, string? Location, string Body, string? PendingRequestId, string? Error, string? ErrorDescription);

/// <summary>
/// Runs a request through Pan's own HTTP pipeline in-process, without a socket: the gRPC services
/// (<c>pan.oauth.ConsentProcess</c>, <c>pan.oauth.App</c>) send their authorization and token requests to
/// /connect/authorize and /connect/token this way. Why: OpenIddict then validates and answers them exactly as it does
/// for browsers and OIDC libraries (client, redirect URI, PKCE, scopes, code and refresh-token redemption, reuse
/// detection), so the HTTP endpoints and the gRPC services share one implementation and one set of rules.
/// The member the gRPC caller proved (by a Pan access token) travels in <see cref="HttpContext.Items"/>, which only
/// in-process code can set; nothing a remote client sends can put a member there.
/// </summary>
public sealed class OAuthPipeline(IHttpContextFactory contexts, IOptions<LinksOptions> links)
{
    private const string MemberItem = "pan.oauth.member";
    private const string PendingItem = "pan.oauth.pending";

    private RequestDelegate? next;

    internal void Attach(RequestDelegate pipeline) => next = pipeline;

    /// <summary>The member an in-process request acts for, or null for a request from the network.</summary>
    public static SignedInMember? MemberOf(HttpContext context) => context.Items.TryGetValue(MemberItem, out var value) ? value as SignedInMember : null;

    /// <summary>Records the pending consent request the authorize endpoint made for an in-process request.</summary>
    public static void SetPending(HttpContext context, string requestId) => context.Items[PendingItem] = requestId;

    /// <summary>GET /connect/authorize with <paramref name="parameters"/>, for <paramref name="member"/>.</summary>
    public Task<InProcessResponse> AuthorizeAsync(IEnumerable<KeyValuePair<string, string?>> parameters, SignedInMember member, IPAddress? caller, CancellationToken cancellationToken) =>
        SendAsync(HttpMethods.Get, "/" + OAuthPaths.Authorize, QueryString.Create(parameters.Where(p => !string.IsNullOrEmpty(p.Value))), null, member, caller, cancellationToken);

    /// <summary>POST /connect/token with a form of <paramref name="parameters"/>.</summary>
    public Task<InProcessResponse> TokenAsync(IEnumerable<KeyValuePair<string, string?>> parameters, IPAddress? caller, CancellationToken cancellationToken)
    {
        var form = QueryString.Create(parameters.Where(p => !string.IsNullOrEmpty(p.Value))).Value?.TrimStart('?') ?? string.Empty;
        return SendAsync(HttpMethods.Post, "/" + OAuthPaths.Token, QueryString.Empty, form, null, caller, cancellationToken);
    }

    private async Task<InProcessResponse> SendAsync(
        string method, string path, QueryString query, string? form, SignedInMember? member, IPAddress? caller, CancellationToken cancellationToken)
    {
        var pipeline = next ?? throw new InvalidOperationException("UsePanOAuthPipeline was not called.");
        var issuer = OAuthServiceCollectionExtensions.Issuer(links.Value);
        var body = form is null ? Stream.Null : new MemoryStream(Encoding.UTF8.GetBytes(form));
        var request = new HttpRequestFeature
        {
            Method = method,
            Scheme = issuer.Scheme,
            Path = path,
            QueryString = query.Value ?? string.Empty,
            Protocol = "HTTP/1.1",
            Body = body,
        };
        request.Headers.Host = issuer.Authority;
        request.Headers.Accept = "application/json";
        if (form is not null)
        {
            request.Headers.ContentType = "application/x-www-form-urlencoded";
            request.Headers.ContentLength = body.Length;
        }

        var responseBody = new MemoryStream();
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(request);
        features.Set<IHttpResponseFeature>(new HttpResponseFeature());
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(responseBody));
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature { RemoteIpAddress = caller ?? IPAddress.Loopback, LocalIpAddress = IPAddress.Loopback });
        features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = cancellationToken });

        var context = contexts.Create(features);
        try
        {
            if (member is not null)
            {
                context.Items[MemberItem] = member;
            }

            await pipeline(context);
            await context.Response.CompleteAsync();
            var answer = context.GetOpenIddictServerResponse();
            return new InProcessResponse(
                context.Response.StatusCode,
                context.Response.Headers.Location.ToString() is { Length: > 0 } location ? location : null,
                Encoding.UTF8.GetString(responseBody.ToArray()),
                context.Items.TryGetValue(PendingItem, out var pending) ? pending as string : null,
                answer?.Error,
                answer?.ErrorDescription);
        }
        finally
        {
            contexts.Dispose(context);
        }
    }
}
